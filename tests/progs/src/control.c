/* Control flow: setjmp/longjmp, deep recursion, function-pointer tables,
 * a switch interpreter, thread-local storage. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf env;
static __thread int tls_counter = 5;
static __thread char tls_buf[64];

static void thrower(int depth)
{
    if (depth == 0)
        longjmp(env, 42);
    thrower(depth - 1);
}

static unsigned long deep(unsigned n)
{
    volatile char pad[64];
    pad[n % 64] = (char)n;
    return n == 0 ? 0 : (unsigned long)n + deep(n - 1) + (unsigned long)pad[n % 64] * 0;
}

static int ackermann(int m, int n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }
static int op_xor(int a, int b) { return a ^ b; }
static int op_shl(int a, int b) { return a << (b & 7); }
static int (*const ops[])(int, int) = {op_add, op_sub, op_mul, op_xor, op_shl};

static unsigned interp(const unsigned char *code, int n)
{
    unsigned acc = 1, stack[16] = {0};
    int sp = 0;
    for (int pc = 0; pc < n; pc++) {
        switch (code[pc] & 7) {
        case 0: acc += code[pc] >> 3; break;
        case 1: acc *= 3; break;
        case 2: stack[sp++ & 15] = acc; break;
        case 3: acc ^= stack[--sp & 15]; break;
        case 4: acc = (acc >> 1) | (acc << 31); break;
        case 5: acc -= 7; break;
        case 6: if (acc & 1) pc++; break;
        default: acc = ~acc; break;
        }
    }
    return acc;
}

int main(void)
{
    int r = setjmp(env);
    if (r == 0) {
        thrower(100);
        puts("not reached");
    }
    printf("longjmp %d\n", r);
    printf("deep %lu\n", deep(20000));
    printf("ackermann %d\n", ackermann(2, 300));
    int acc = 7;
    for (int i = 0; i < 100000; i++)
        acc = ops[i % 5](acc, i) & 0xFFFFF;
    printf("fptr %d\n", acc);
    unsigned char code[256];
    for (int i = 0; i < 256; i++)
        code[i] = (unsigned char)(i * 37 + 11);
    unsigned h = 0;
    for (int k = 0; k < 1000; k++)
        h = h * 31 + interp(code, 256 - (k % 7));
    printf("interp %u\n", h);
    tls_counter += 10;
    snprintf(tls_buf, sizeof tls_buf, "tls %d", tls_counter);
    puts(tls_buf);
    return 0;
}
