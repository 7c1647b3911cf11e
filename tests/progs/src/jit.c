/* A tiny JIT: writes i386 code into mmapped memory, runs it, rewrites it
 * in place (same page, so the translator must notice) and runs it again;
 * also code that patches its own immediate and a PROT_EXEC toggle. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn2)(int, int);

/* mov eax,[esp+4]; op eax,[esp+8]; ret */
static void emit_binop(unsigned char *p, unsigned char opcode)
{
    static const unsigned char tmpl[] = {0x8B, 0x44, 0x24, 0x04, 0x00, 0x44, 0x24, 0x08, 0xC3};
    memcpy(p, tmpl, sizeof tmpl);
    p[4] = opcode;
}

/* mov eax, imm32; ret */
static void emit_const(unsigned char *p, uint32_t v)
{
    p[0] = 0xB8;
    memcpy(p + 1, &v, 4);
    p[5] = 0xC3;
}

int main(void)
{
    unsigned char *code = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    emit_binop(code, 0x03);                 /* add */
    printf("add %d\n", ((fn2)code)(40, 2));
    emit_binop(code, 0x2B);                 /* sub */
    printf("sub %d\n", ((fn2)code)(40, 2));
    emit_binop(code, 0x33);                 /* xor */
    printf("xor %d\n", ((fn2)code)(0x55, 0x0F));

    uint32_t sum = 0;
    for (uint32_t i = 0; i < 2000; i++) {   /* rewrite every iteration */
        emit_const(code + 64, i * 2654435761u);
        sum += ((uint32_t (*)(void))(code + 64))();
    }
    printf("rewrites %08x\n", sum);

    /* A loop whose body rewrites an immediate of code it runs next:
     *   mov ecx, 100
     * L: mov eax, imm32 (at +6)     ; patched below
     *   add eax, 1
     *   mov [edx], eax              ; edx = address of the imm32
     *   dec ecx; jnz L; ret  */
    static const unsigned char smc[] = {
        0xB9, 0x64, 0x00, 0x00, 0x00,       /* mov ecx, 100 */
        0xB8, 0x00, 0x00, 0x00, 0x00,       /* L: mov eax, 0 */
        0x83, 0xC0, 0x03,                   /* add eax, 3 */
        0x89, 0x02,                         /* mov [edx], eax */
        0x49,                               /* dec ecx */
        0x75, 0xF3,                         /* jnz L */
        0xC3};
    unsigned char *s = code + 4096 + 100;
    memcpy(s, smc, sizeof smc);
    uint32_t res;
    __asm__ volatile("call *%1" : "=a"(res) : "r"(s), "d"(s + 6) : "ecx", "memory", "cc");
    printf("self-modifying loop %u\n", res);

    emit_const(code, 1234);
    if (mprotect(code, 8192, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        return 1;
    }
    printf("after mprotect %d\n", ((int (*)(void))code)());
    mprotect(code, 8192, PROT_READ | PROT_WRITE);
    emit_const(code, 4321);
    mprotect(code, 8192, PROT_READ | PROT_EXEC);
    printf("rewritten %d\n", ((int (*)(void))code)());
    munmap(code, 8192);
    return 0;
}
