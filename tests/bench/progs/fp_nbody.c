/* x87 floating-point benchmark (built with -mfpmath=387): an n-body
 * simulation and a Mandelbrot set. Prints the energies and a count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NB 5
struct body { double x, y, z, vx, vy, vz, m; };

static double energy(const struct body *b)
{
    double e = 0;
    for (int i = 0; i < NB; i++) {
        e += 0.5 * b[i].m * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < NB; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].m * b[j].m / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(struct body *b, double dt)
{
    for (int i = 0; i < NB; i++)
        for (int j = i + 1; j < NB; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            b[i].vx -= dx * b[j].m * mag; b[i].vy -= dy * b[j].m * mag; b[i].vz -= dz * b[j].m * mag;
            b[j].vx += dx * b[i].m * mag; b[j].vy += dy * b[i].m * mag; b[j].vz += dz * b[i].m * mag;
        }
    for (int i = 0; i < NB; i++) {
        b[i].x += dt * b[i].vx; b[i].y += dt * b[i].vy; b[i].z += dt * b[i].vz;
    }
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    const double PI = 3.141592653589793, SM = 4 * PI * PI, DY = 365.24;
    struct body b[NB] = {
        {0, 0, 0, 0, 0, 0, SM},
        {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
         1.66007664274403694e-03 * DY, 7.69901118419740425e-03 * DY, -6.90460016972063023e-05 * DY,
         9.54791938424326609e-04 * SM},
        {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
         -2.76742510726862411e-03 * DY, 4.99852801234917238e-03 * DY, 2.30417297573763929e-05 * DY,
         2.85885980666130812e-04 * SM},
        {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
         2.96460137564761618e-03 * DY, 2.37847173959480950e-03 * DY, -2.96589568540237556e-05 * DY,
         4.36624404335156298e-05 * SM},
        {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
         2.68067772490389322e-03 * DY, 1.62824170038242295e-03 * DY, -9.51592254519715870e-05 * DY,
         5.15138902046611451e-05 * SM}};
    printf("%.9f\n", energy(b));
    for (unsigned i = 0; i < 5000000 * scale; i++)
        advance(b, 0.01);
    printf("%.9f\n", energy(b));
    long inside = 0;
    for (unsigned r = 0; r < 4 * scale; r++)
        for (int iy = 0; iy < 300; iy++)
            for (int ix = 0; ix < 400; ix++) {
                double cr = -2.0 + ix * 0.0075, ci = -1.125 + iy * 0.0075, zr = 0, zi = 0;
                int k = 0;
                while (k < 100 && zr * zr + zi * zi < 4.0) {
                    double t = zr * zr - zi * zi + cr;
                    zi = 2 * zr * zi + ci;
                    zr = t;
                    k++;
                }
                inside += k == 100;
            }
    printf("mandelbrot %ld\n", inside);
    return 0;
}
