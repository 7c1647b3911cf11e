/* Branch-bound benchmark: a bytecode interpreter dispatched through a
 * table of function pointers, and a switch-based one, running a small
 * program many times. Prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct vm { uint32_t acc, x; uint32_t stack[64]; int sp; int pc; };
typedef void (*op_fn)(struct vm *, uint8_t);

static void op_add(struct vm *v, uint8_t a) { v->acc += a; }
static void op_mul(struct vm *v, uint8_t a) { v->acc = v->acc * (a | 1u); }
static void op_xor(struct vm *v, uint8_t a) { v->acc ^= v->x + a; }
static void op_push(struct vm *v, uint8_t a) { v->stack[v->sp++ & 63] = v->acc + a; }
static void op_pop(struct vm *v, uint8_t a) { v->x = v->stack[--v->sp & 63] ^ a; }
static void op_rot(struct vm *v, uint8_t a) { unsigned s = a & 31; v->acc = (v->acc << s) | (v->acc >> ((32 - s) & 31)); }
static void op_jnz(struct vm *v, uint8_t a) { if (v->acc & 1) v->pc += a & 3; }
static void op_swap(struct vm *v, uint8_t a) { uint32_t t = v->acc; v->acc = v->x + a; v->x = t; }
static const op_fn table[8] = {op_add, op_mul, op_xor, op_push, op_pop, op_rot, op_jnz, op_swap};

static uint32_t run_table(const uint8_t *code, int n, uint32_t seed)
{
    struct vm v = {seed, 0, {0}, 0, 0};
    for (v.pc = 0; v.pc < n; v.pc++)
        table[code[v.pc] & 7](&v, code[v.pc] >> 3);
    return v.acc ^ v.x;
}

static uint32_t run_switch(const uint8_t *code, int n, uint32_t seed)
{
    uint32_t acc = seed, x = 0, st[64] = {0};
    int sp = 0;
    for (int pc = 0; pc < n; pc++) {
        uint8_t a = code[pc] >> 3;
        switch (code[pc] & 7) {
        case 0: acc += a; break;
        case 1: acc = acc * (a | 1u); break;
        case 2: acc ^= x + a; break;
        case 3: st[sp++ & 63] = acc + a; break;
        case 4: x = st[--sp & 63] ^ a; break;
        case 5: acc = (acc << (a & 31)) | (acc >> ((32 - (a & 31)) & 31)); break;
        case 6: if (acc & 1) pc += a & 3; break;
        default: { uint32_t t = acc; acc = x + a; x = t; } break;
        }
    }
    return acc ^ x;
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    enum { N = 4096 };
    uint8_t code[N];
    uint32_t r = 12345, h = 0;
    for (int i = 0; i < N; i++) {
        r = r * 1103515245u + 12345u;
        code[i] = (uint8_t)(r >> 16);
    }
    for (unsigned i = 0; i < 18000 * scale; i++) {
        h = h * 31 + run_table(code, N, i);
        h = h * 31 + run_switch(code, N, h);
    }
    printf("checksum %08x\n", h);
    return 0;
}
