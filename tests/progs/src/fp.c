/* Floating point: the same source is built with -mfpmath=387 and with
 * -msse2 -mfpmath=sse. Prints with %f %e %g so libc's conversions run too. */
#include <math.h>
#include <stdio.h>

static double integrate(double (*f)(double), double a, double b, int n)
{
    double h = (b - a) / n, s = 0.5 * (f(a) + f(b));
    for (int i = 1; i < n; i++)
        s += f(a + i * h);
    return s * h;
}

static double gauss(double x) { return exp(-x * x); }

int main(void)
{
    double x = 0.0;
    for (int i = 1; i <= 100000; i++)
        x += 1.0 / ((double)i * i);
    printf("basel %.12f %e\n", x, sqrt(6 * x));
    printf("trig %.10f %.10f %.10f\n", sin(1.0), cos(2.5), atan2(1.0, -3.0));
    printf("exp/log %.10g %.10g %.10g\n", exp(3.7), log(12345.678), pow(2.5, 7.25));
    printf("gauss %.12f\n", integrate(gauss, -5.0, 5.0, 20000));
    float f = 1.0f;
    for (int i = 0; i < 50; i++)
        f = f * 1.1f + 0.3f;
    printf("float %e %g %a\n", (double)f, (double)f, (double)f);
    long double ld = 1.0L;
    for (int i = 1; i < 30; i++)
        ld *= (long double)i / 3.0L;
    printf("long double %.15Le\n", ld);
    volatile double z = 0.0, big = 1e308;
    printf("special %f %f %f %d\n", 1.0 / z, -1.0 / z, big * 10, isnan(z / z));
    double m = 0;
    for (int iy = 0; iy < 40; iy++)
        for (int ix = 0; ix < 60; ix++) {
            double cr = -2.0 + ix * 0.05, ci = -1.0 + iy * 0.05, zr = 0, zi = 0;
            int k = 0;
            while (k < 200 && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                k++;
            }
            m += k;
        }
    printf("mandel %.1f\n", m);
    printf("conv %d %u %lld %f\n", (int)-3.7, (unsigned)3.9e9, (long long)-1.5e15,
           (double)(float)0.1);
    printf("round %f %f %f %ld\n", floor(-2.5), ceil(-2.5), round(2.5), lrint(3.5));
    return 0;
}
