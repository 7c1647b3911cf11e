/* Instructions that the translator must rewrite or emulate rather than
 * copy, each run on a few values and printed: string instructions in both
 * directions, push/pop forms, pusha/popa, enter/leave, BCD adjusts,
 * xlat, loop/jecxz, cmpxchg8b, lock forms, bit scans, rdtsc ordering,
 * cpuid, moffs loads, %gs-relative TLS access, MMX and SSE2 integer. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t flags_of(uint32_t a, uint32_t b)
{
    uint32_t f;
    __asm__ volatile("addl %2, %1\n\tpushfl\n\tpopl %0" : "=r"(f), "+r"(a) : "r"(b) : "cc");
    return f & 0x8d5; /* OF SF ZF AF PF CF */
}

uint32_t moffs_var = 0x11223344;

int main(void)
{
    char src[64], dst[64];
    for (int i = 0; i < 64; i++)
        src[i] = (char)('A' + i % 26);
    /* rep movsb forward and backward (DF=1), rep stosl, repne scasb, repe cmpsb */
    memset(dst, '.', sizeof dst);
    {
        void *d = dst, *s = src;
        uint32_t c = 20;
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
        d = dst + 40;
        s = src + 10;
        c = 8;
        __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
        printf("movs %.64s\n", dst);
        uint32_t pat = 0x64636261;
        d = dst;
        c = 4;
        __asm__ volatile("rep stosl" : "+D"(d), "+c"(c) : "a"(pat) : "memory");
        printf("stos %.20s\n", dst);
        d = src;
        c = 64;
        __asm__ volatile("repne scasb" : "+D"(d), "+c"(c) : "a"('K') : "cc");
        printf("scas remaining %u at %d\n", c, (int)((char *)d - src));
        char a2[16] = "abcdefXhij", b2[16] = "abcdefYhij";
        d = b2;
        s = a2;
        c = 10;
        __asm__ volatile("repe cmpsb" : "+D"(d), "+S"(s), "+c"(c) : : "cc");
        printf("cmps remaining %u at %d\n", c, (int)((char *)s - a2));
        uint32_t n = 0;
        s = src;
        c = 3;
        __asm__ volatile("1: lodsb\n\taddl %%eax, %0\n\tloop 1b"
                         : "+r"(n), "+S"(s), "+c"(c) : "a"(0) : "cc");
        printf("lods/loop %u\n", n);
    }
    /* pusha/popa, enter/leave, push imm, pop mem */
    {
        uint32_t out[8], esp_before, esp_after, mem = 0;
        __asm__ volatile("movl %%esp, %0\n\t"
                         "pushal\n\t"
                         "popal\n\t"
                         "enter $16, $0\n\t"
                         "movl $0x55, -4(%%ebp)\n\t"
                         "leave\n\t"
                         "pushl $0x1234\n\t"
                         "popl %2\n\t"
                         "movl %%esp, %1"
                         : "=&r"(esp_before), "=&r"(esp_after), "=m"(mem) : : "memory");
        printf("pusha/enter esp %s mem %x\n", esp_before == esp_after ? "same" : "DIFF", mem);
        uint32_t v = 0xCAFEBABE;
        __asm__ volatile("pushl %1\n\tpopl %0" : "=m"(out[0]) : "m"(v));
        printf("push/pop mem %x\n", out[0]);
    }
    /* BCD adjusts (emulated in 64-bit mode) */
    {
        uint32_t ax = 0x0019, r1, r2, r3;
        __asm__ volatile("addb $0x28, %%al\n\tdaa" : "=a"(r1) : "a"(ax) : "cc");
        __asm__ volatile("subb $0x29, %%al\n\tdas" : "=a"(r2) : "a"(0x0042) : "cc");
        __asm__ volatile("aam" : "=a"(r3) : "a"(0x004F) : "cc");
        uint32_t r4;
        __asm__ volatile("aad" : "=a"(r4) : "a"(0x0705) : "cc");
        uint32_t r5;
        __asm__ volatile("addb $9, %%al\n\taaa" : "=a"(r5) : "a"(0x0009) : "cc");
        printf("bcd daa %02x das %02x aam %04x aad %04x aaa %04x\n", r1 & 0xff, r2 & 0xff,
               r3 & 0xffff, r4 & 0xffff, r5 & 0xffff);
    }
    /* xlat, jecxz, bsf/bsr/bt/bts, cmpxchg8b, lock xadd, xchg */
    {
        static const unsigned char table[256] = {[5] = 42, [200] = 99};
        uint32_t r;
        __asm__ volatile("xlat" : "=a"(r) : "a"(200), "b"(table));
        printf("xlat %u\n", r & 0xff);
        uint32_t taken;
        __asm__ volatile("movl $1, %0\n\tjecxz 1f\n\tmovl $0, %0\n1:" : "=&r"(taken) : "c"(0));
        printf("jecxz %u\n", taken);
        uint32_t x = 0x00F00000, f, l, bit;
        __asm__("bsfl %1, %0" : "=r"(f) : "r"(x) : "cc");
        __asm__("bsrl %1, %0" : "=r"(l) : "r"(x) : "cc");
        __asm__ volatile("btsl $3, %1\n\tsetc %b0" : "=q"(bit), "+r"(x) : : "cc");
        printf("bsf %u bsr %u bts %u -> %x\n", f, l, bit & 1, x);
        uint64_t mem = 0x1111111122222222ull;
        uint32_t lo = 0x22222222, hi = 0x11111111;
        __asm__ volatile("lock cmpxchg8b %0" : "+m"(mem), "+a"(lo), "+d"(hi)
                         : "b"(0x44444444), "c"(0x33333333) : "cc");
        printf("cmpxchg8b %llx\n", (unsigned long long)mem);
        uint32_t counter = 10, add = 5;
        __asm__ volatile("lock xaddl %0, %1" : "+r"(add), "+m"(counter) : : "cc");
        uint32_t xv = 7, xm = 9;
        __asm__ volatile("xchgl %0, %1" : "+r"(xv), "+m"(xm));
        printf("xadd old %u new %u xchg %u %u\n", add, counter, xv, xm);
    }
    /* flags through pushf, moffs, cpuid leaf 0 vendor length, rdtsc */
    {
        printf("flags %03x %03x %03x\n", flags_of(0x7fffffff, 1), flags_of(0xffffffff, 1),
               flags_of(0x0f, 1));
        uint32_t v;
        __asm__ volatile("movl moffs_var, %%eax" : "=a"(v));
        printf("moffs %x\n", v);
        uint32_t a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
        char vendor[13];
        memcpy(vendor, &b, 4);
        memcpy(vendor + 4, &d, 4);
        memcpy(vendor + 8, &c, 4);
        vendor[12] = 0;
        printf("cpuid vendor length %zu\n", strlen(vendor));
        uint32_t t1, t2, h1, h2;
        __asm__ volatile("rdtsc" : "=a"(t1), "=d"(h1));
        __asm__ volatile("rdtsc" : "=a"(t2), "=d"(h2));
        uint64_t d1 = (uint64_t)h1 << 32 | t1, d2 = (uint64_t)h2 << 32 | t2;
        printf("rdtsc monotonic %d\n", d2 >= d1);
    }
    /* %gs-relative access: the TLS block's self pointer (glibc: gs:0) */
    {
        uint32_t self, viaptr;
        __asm__ volatile("movl %%gs:0, %0" : "=r"(self));
        viaptr = *(uint32_t *)(uintptr_t)self;
        printf("gs:0 self-pointer %s\n", self == viaptr ? "ok" : "BAD");
        uint16_t gs;
        __asm__ volatile("movw %%gs, %0" : "=r"(gs));
        printf("gs selector rpl %u ti %u\n", gs & 3, (gs >> 2) & 1);
    }
    /* MMX and SSE2 integer arithmetic */
    {
        uint64_t m1 = 0x0102030405060708ull, m2 = 0x1010101010101010ull, mr;
        __asm__ volatile("movq %1, %%mm0\n\tpaddb %2, %%mm0\n\tmovq %%mm0, %0\n\temms"
                         : "=m"(mr) : "m"(m1), "m"(m2) : "mm0");
        printf("mmx paddb %016llx\n", (unsigned long long)mr);
        uint32_t va[4] = {1, 2, 3, 4}, vb[4] = {10, 20, 30, 40}, vr[4];
        __asm__ volatile("movdqu %1, %%xmm0\n\tmovdqu %2, %%xmm1\n\tpaddd %%xmm1, %%xmm0\n\t"
                         "pshufd $0x1b, %%xmm0, %%xmm0\n\tmovdqu %%xmm0, %0"
                         : "=m"(vr) : "m"(va), "m"(vb) : "xmm0", "xmm1");
        printf("sse2 %u %u %u %u\n", vr[0], vr[1], vr[2], vr[3]);
    }
    return 0;
}
