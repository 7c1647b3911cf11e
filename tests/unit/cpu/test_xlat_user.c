/*
 * test_xlat_user.c - hand-written guest code run through cpu_run in user
 * mode, each case checking registers, memory and the exit against what
 * the hardware does (SDM 2A/2B; for ALU flags, the host CPU itself).
 *
 * Guest layout: page 0 RW (wrap-around tests), code at 0x1000 (R-X, or
 * RWX for self-modifying code), data 0x10000-0x1ffff RW, stack below
 * 0x180000. The guest code below was assembled with `as --32` and linked
 * at 0x1000; its source is in the comment above each array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "cpu.h"
#include "xlat_harness.h"


/*
 *     mov ebx, 0x1234fffc
 *     mov esi, 0x8
 *     addr16 mov eax, [bx+si+4]
 *     mov ebp, 0x812
 *     mov edi, 0xf800
 *     mov ecx, 0xabcd
 *     addr16 mov [bp+di-2], ecx
 *     addr16 lea edx, [bx+si+0x100]
 *     addr16 mov esi, ds:[0x20]
 *     int 0x80
 */
static const uint8_t code_addr16[] = {
    0xbb, 0xfc, 0xff, 0x34, 0x12, 0xbe, 0x08, 0x00, 0x00, 0x00, 0x67, 0x8b,
    0x40, 0x04, 0xbd, 0x12, 0x08, 0x00, 0x00, 0xbf, 0x00, 0xf8, 0x00, 0x00,
    0xb9, 0xcd, 0xab, 0x00, 0x00, 0x67, 0x89, 0x4b, 0xfe, 0x67, 0x8d, 0x90,
    0x00, 0x01, 0x67, 0x8b, 0x36, 0x20, 0x00, 0xcd, 0x80,
};
/*
 *     mov eax, 0x7fffffff
 *     add eax, 1
 *     pushfd
 *     pop ebx
 *     mov eax, 0
 *     sub eax, 1
 *     pushfd
 *     pop ecx
 *     mov edx, 0x12345678
 *     imul edx, edx, 3
 *     mov esi, 0x80
 *     shl esi, 25
 *     pushfd
 *     pop edi
 *     int 0x80
 */
static const uint8_t code_arith[] = {
    0xb8, 0xff, 0xff, 0xff, 0x7f, 0x83, 0xc0, 0x01, 0x9c, 0x5b, 0xb8, 0x00,
    0x00, 0x00, 0x00, 0x83, 0xe8, 0x01, 0x9c, 0x59, 0xba, 0x78, 0x56, 0x34,
    0x12, 0x6b, 0xd2, 0x03, 0xbe, 0x80, 0x00, 0x00, 0x00, 0xc1, 0xe6, 0x19,
    0x9c, 0x5f, 0xcd, 0x80,
};
/*
 *     mov eax, 0x0979
 *     add al, 0x08
 *     daa
 *     mov ebx, eax
 *     mov eax, 0x0105
 *     aad
 *     mov ecx, eax
 *     push ds
 *     pop edx
 *     int 0x80
 */
static const uint8_t code_bcd[] = {
    0xb8, 0x79, 0x09, 0x00, 0x00, 0x04, 0x08, 0x27, 0x89, 0xc3, 0xb8, 0x05,
    0x01, 0x00, 0x00, 0xd5, 0x0a, 0x89, 0xc1, 0x1e, 0x5a, 0xcd, 0x80,
};
/*
 *     mov eax, 0
 *     cpuid
 *     mov esi, eax
 *     mov eax, 1
 *     cpuid
 *     int 0x80
 */
static const uint8_t code_cpuid[] = {
    0xb8, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x89, 0xc6, 0xb8, 0x01, 0x00,
    0x00, 0x00, 0x0f, 0xa2, 0xcd, 0x80,
};
/*
 *     mov eax, 1
 *     xor edx, edx
 *     xor ecx, ecx
 *     div ecx
 *     int 0x80
 */
static const uint8_t code_divzero[] = {
    0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x31, 0xc9, 0xf7, 0xf1, 0xcd,
    0x80,
};
/*
 *     int3
 *     hlt
 */
static const uint8_t code_excs[] = {
    0xcc, 0xf4,
};
/*
 *     mov eax, 0
 *     pushfd
 *     pop ebx
 *     mov ecx, 0x8d5
 *     or ecx, 0x200000
 *     push ecx
 *     popfd
 *     pushfd
 *     pop edx
 *     std
 *     pushfd
 *     pop esi
 *     cld
 *     stc
 *     lahf
 *     int 0x80
 */
static const uint8_t code_flags[] = {
    0xb8, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x5b, 0xb9, 0xd5, 0x08, 0x00, 0x00,
    0x81, 0xc9, 0x00, 0x00, 0x20, 0x00, 0x51, 0x9d, 0x9c, 0x5a, 0xfd, 0x9c,
    0x5e, 0xfc, 0xf9, 0x9f, 0xcd, 0x80,
};
/*
 *     mov eax, fs:[8]
 *     mov ecx, 0x10
 *     mov dword ptr gs:[ecx+4], 7
 *     mov edx, gs:[0xfffffffc]
 *     add dword ptr fs:[8], 1
 *     mov ebx, fs:[8]
 *     int 0x80
 */
static const uint8_t code_fsgs[] = {
    0x64, 0xa1, 0x08, 0x00, 0x00, 0x00, 0xb9, 0x10, 0x00, 0x00, 0x00, 0x65,
    0xc7, 0x41, 0x04, 0x07, 0x00, 0x00, 0x00, 0x65, 0x8b, 0x15, 0xfc, 0xff,
    0xff, 0xff, 0x64, 0x83, 0x05, 0x08, 0x00, 0x00, 0x00, 0x01, 0x64, 0x8b,
    0x1d, 0x08, 0x00, 0x00, 0x00, 0xcd, 0x80,
};
/*
 *     mov [0x10000], esp
 *     mov dword ptr [0x10004], offset landing
 *     call deep
 *     mov eax, 1
 *     int 0x80
 * deep:
 *     push 1
 *     push 2
 *     call deeper
 *     ret
 * deeper:
 *     mov esp, [0x10000]
 *     jmp dword ptr [0x10004]
 * landing:
 *     mov eax, 99
 *     int 0x80
 */
static const uint8_t code_longjmp[] = {
    0x89, 0x25, 0x00, 0x00, 0x01, 0x00, 0xc7, 0x05, 0x04, 0x00, 0x01, 0x00,
    0x32, 0x10, 0x00, 0x00, 0xe8, 0x07, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00,
    0x00, 0x00, 0xcd, 0x80, 0x6a, 0x01, 0x6a, 0x02, 0xe8, 0x01, 0x00, 0x00,
    0x00, 0xc3, 0x8b, 0x25, 0x00, 0x00, 0x01, 0x00, 0xff, 0x25, 0x04, 0x00,
    0x01, 0x00, 0xb8, 0x63, 0x00, 0x00, 0x00, 0xcd, 0x80,
};
/*
 *     mov ecx, 5
 *     xor eax, eax
 * 1:  add eax, ecx
 *     loop 1b
 *     mov ecx, 0
 *     jecxz 2f
 *     mov eax, 0
 * 2:  int 0x80
 */
static const uint8_t code_loop[] = {
    0xb9, 0x05, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x01, 0xc8, 0xe2, 0xfc, 0xb9,
    0x00, 0x00, 0x00, 0x00, 0xe3, 0x05, 0xb8, 0x00, 0x00, 0x00, 0x00, 0xcd,
    0x80,
};
/*
 *     mov ecx, 0x00f00000
 *     lzcnt eax, ecx
 *     int 0x80
 */
static const uint8_t code_lzcnt[] = {
    0xb9, 0x00, 0x00, 0xf0, 0x00, 0xf3, 0x0f, 0xbd, 0xc1, 0xcd, 0x80,
};
/*
 *     mov ebx, 0x10000
 *     mov esi, 4
 *     mov dword ptr [ebx], 11
 *     mov dword ptr [ebx+esi*4], 22
 *     mov dword ptr [ebx+esi*8+0x100], 33
 *     mov dword ptr ds:[0x10200], 44
 *     mov eax, ds:[0x10200]
 *     lea ecx, ds:[0x10200]
 *     mov edx, [ebx+0x10]
 *     mov ebp, 0x10000
 *     mov edi, [ebp+0x120]
 *     add dword ptr [ebx], 5
 *     mov dword ptr [esp-4], 0x55
 *     mov esi, [esp-4]
 *     add esi, ds:[0x10200]
 *     int 0x80
 */
static const uint8_t code_memforms[] = {
    0xbb, 0x00, 0x00, 0x01, 0x00, 0xbe, 0x04, 0x00, 0x00, 0x00, 0xc7, 0x03,
    0x0b, 0x00, 0x00, 0x00, 0xc7, 0x04, 0xb3, 0x16, 0x00, 0x00, 0x00, 0xc7,
    0x84, 0xf3, 0x00, 0x01, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0xc7, 0x05,
    0x00, 0x02, 0x01, 0x00, 0x2c, 0x00, 0x00, 0x00, 0xa1, 0x00, 0x02, 0x01,
    0x00, 0x8d, 0x0d, 0x00, 0x02, 0x01, 0x00, 0x8b, 0x53, 0x10, 0xbd, 0x00,
    0x00, 0x01, 0x00, 0x8b, 0xbd, 0x20, 0x01, 0x00, 0x00, 0x83, 0x03, 0x05,
    0xc7, 0x44, 0x24, 0xfc, 0x55, 0x00, 0x00, 0x00, 0x8b, 0x74, 0x24, 0xfc,
    0x03, 0x35, 0x00, 0x02, 0x01, 0x00, 0xcd, 0x80,
};
/*
 *     mov eax, 5
 *     mov [0x50000], eax
 *     int 0x80
 */
static const uint8_t code_pf[] = {
    0xb8, 0x05, 0x00, 0x00, 0x00, 0xa3, 0x00, 0x00, 0x05, 0x00, 0xcd, 0x80,
};
/*
 *     mov eax, 20000
 *     call sum
 *     int 0x80
 * sum: test eax, eax
 *     jz 1f
 *     push eax
 *     dec eax
 *     call sum
 *     pop ecx
 *     add eax, ecx
 * 1:  ret
 */
static const uint8_t code_recurse[] = {
    0xb8, 0x20, 0x4e, 0x00, 0x00, 0xe8, 0x02, 0x00, 0x00, 0x00, 0xcd, 0x80,
    0x85, 0xc0, 0x74, 0x0a, 0x50, 0x48, 0xe8, 0xf5, 0xff, 0xff, 0xff, 0x59,
    0x01, 0xc8, 0xc3,
};
/*
 *     cld
 *     mov esi, 0x40f00
 *     mov edi, 0x10000
 *     mov ecx, 0x200
 *     rep movsb
 *     int 0x80
 */
static const uint8_t code_repfault[] = {
    0xfc, 0xbe, 0x00, 0x0f, 0x04, 0x00, 0xbf, 0x00, 0x00, 0x01, 0x00, 0xb9,
    0x00, 0x02, 0x00, 0x00, 0xf3, 0xa4, 0xcd, 0x80,
};
/*
 *     mov byte ptr [patch+1], 42
 * patch:
 *     mov eax, 1
 *     int 0x80
 */
static const uint8_t code_smc[] = {
    0xc6, 0x05, 0x08, 0x10, 0x00, 0x00, 0x2a, 0xb8, 0x01, 0x00, 0x00, 0x00,
    0xcd, 0x80,
};
/*
 * 1:  add eax, 1
 *     mov [0x10000], eax
 *     jmp 1b
 */
static const uint8_t code_spin[] = {
    0x83, 0xc0, 0x01, 0xa3, 0x00, 0x00, 0x01, 0x00, 0xeb, 0xf6,
};
/*
 *     mov eax, 1
 *     movdqa xmm0, xmm1
 *     mov eax, 2
 *     int 0x80
 */
static const uint8_t code_sse2[] = {
    0xb8, 0x01, 0x00, 0x00, 0x00, 0x66, 0x0f, 0x6f, 0xc1, 0xb8, 0x02, 0x00,
    0x00, 0x00, 0xcd, 0x80,
};
/*
 *     push 0x11223344
 *     push -2
 *     pop ebx
 *     pop ecx
 *     mov dword ptr ds:[0x10000], 0x99
 *     push dword ptr ds:[0x10000]
 *     pop dword ptr ds:[0x10004]
 *     push 5
 *     pop dword ptr [esp-4]
 *     mov esi, [esp-8]
 *     call f1
 *     mov edi, eax
 *     mov eax, offset f2
 *     call eax
 *     pushad
 *     mov eax, 0
 *     mov ebx, 0
 *     popad
 *     push 7
 *     push 8
 *     call f3
 *     int 0x80
 * f1: mov eax, 0x42
 *     ret
 * f2: mov edx, [esp]
 *     ret
 * f3: enter 8, 0
 *     mov eax, [ebp+8]
 *     add eax, [ebp+12]
 *     mov dword ptr [ebp-4], eax
 *     leave
 *     ret 8
 */
static const uint8_t code_stack[] = {
    0x68, 0x44, 0x33, 0x22, 0x11, 0x6a, 0xfe, 0x5b, 0x59, 0xc7, 0x05, 0x00,
    0x00, 0x01, 0x00, 0x99, 0x00, 0x00, 0x00, 0xff, 0x35, 0x00, 0x00, 0x01,
    0x00, 0x8f, 0x05, 0x04, 0x00, 0x01, 0x00, 0x6a, 0x05, 0x8f, 0x44, 0x24,
    0xfc, 0x8b, 0x74, 0x24, 0xf8, 0xe8, 0x20, 0x00, 0x00, 0x00, 0x89, 0xc7,
    0xb8, 0x54, 0x10, 0x00, 0x00, 0xff, 0xd0, 0x60, 0xb8, 0x00, 0x00, 0x00,
    0x00, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x61, 0x6a, 0x07, 0x6a, 0x08, 0xe8,
    0x0c, 0x00, 0x00, 0x00, 0xcd, 0x80, 0xb8, 0x42, 0x00, 0x00, 0x00, 0xc3,
    0x8b, 0x14, 0x24, 0xc3, 0xc8, 0x08, 0x00, 0x00, 0x8b, 0x45, 0x08, 0x03,
    0x45, 0x0c, 0x89, 0x45, 0xfc, 0xc9, 0xc2, 0x08, 0x00,
};
/*
 *     cld
 *     mov esi, 0x10000
 *     mov edi, 0x11000
 *     mov ecx, 16
 *     rep movsd
 *     mov ebp, ecx
 *     mov eax, 0xdeadbeef
 *     mov edi, 0x12000
 *     mov ecx, 8
 *     rep stosd
 *     std
 *     mov esi, 0x1000f
 *     mov edi, 0x1300f
 *     mov ecx, 16
 *     rep movsb
 *     cld
 *     mov [0x14000], edi
 *     mov [0x14004], esi
 *     mov esi, 0x10000
 *     mov edi, 0x11000
 *     mov ecx, 64
 *     repe cmpsb
 *     mov [0x14008], ecx
 *     mov [0x1400c], esi
 *     mov edi, 0x10000
 *     mov al, 7
 *     mov ecx, 64
 *     repne scasb
 *     mov [0x14010], ecx
 *     mov [0x14014], edi
 *     lodsb
 *     int 0x80
 */
static const uint8_t code_strings[] = {
    0xfc, 0xbe, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x00, 0x10, 0x01, 0x00, 0xb9,
    0x10, 0x00, 0x00, 0x00, 0xf3, 0xa5, 0x89, 0xcd, 0xb8, 0xef, 0xbe, 0xad,
    0xde, 0xbf, 0x00, 0x20, 0x01, 0x00, 0xb9, 0x08, 0x00, 0x00, 0x00, 0xf3,
    0xab, 0xfd, 0xbe, 0x0f, 0x00, 0x01, 0x00, 0xbf, 0x0f, 0x30, 0x01, 0x00,
    0xb9, 0x10, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0xfc, 0x89, 0x3d, 0x00, 0x40,
    0x01, 0x00, 0x89, 0x35, 0x04, 0x40, 0x01, 0x00, 0xbe, 0x00, 0x00, 0x01,
    0x00, 0xbf, 0x00, 0x10, 0x01, 0x00, 0xb9, 0x40, 0x00, 0x00, 0x00, 0xf3,
    0xa6, 0x89, 0x0d, 0x08, 0x40, 0x01, 0x00, 0x89, 0x35, 0x0c, 0x40, 0x01,
    0x00, 0xbf, 0x00, 0x00, 0x01, 0x00, 0xb0, 0x07, 0xb9, 0x40, 0x00, 0x00,
    0x00, 0xf2, 0xae, 0x89, 0x0d, 0x10, 0x40, 0x01, 0x00, 0x89, 0x3d, 0x14,
    0x40, 0x01, 0x00, 0xac, 0xcd, 0x80,
};
/*
 *     cld
 *     mov esi, 0x100
 *     mov edi, 0x12000
 *     mov ecx, 8
 *     rep movs byte ptr es:[edi], byte ptr fs:[esi]
 *     mov edi, 0xabcd0100
 *     mov ecx, 0x10005
 *     mov al, 0x33
 *     addr16 rep stosb
 *     mov ebx, 0x100
 *     mov eax, 2
 *     xlat byte ptr fs:[ebx]
 *     int 0x80
 */
static const uint8_t code_strseg[] = {
    0xfc, 0xbe, 0x00, 0x01, 0x00, 0x00, 0xbf, 0x00, 0x20, 0x01, 0x00, 0xb9,
    0x08, 0x00, 0x00, 0x00, 0x64, 0xf3, 0xa4, 0xbf, 0x00, 0x01, 0xcd, 0xab,
    0xb9, 0x05, 0x00, 0x01, 0x00, 0xb0, 0x33, 0x67, 0xf3, 0xaa, 0xbb, 0x00,
    0x01, 0x00, 0x00, 0xb8, 0x02, 0x00, 0x00, 0x00, 0x64, 0xd7, 0xcd, 0x80,
};
/*
 *     mov dword ptr [0x10000], offset g0
 *     mov dword ptr [0x10004], offset g1
 *     mov dword ptr [0x10008], offset g2
 *     xor ebx, ebx
 *     mov esi, 300
 * 2:  mov ecx, esi
 *     and ecx, 3
 *     cmp ecx, 3
 *     jne 3f
 *     xor ecx, ecx
 * 3:  call dword ptr [0x10000+ecx*4]
 *     dec esi
 *     jnz 2b
 *     int 0x80
 * g0: add ebx, 1
 *     ret
 * g1: add ebx, 10
 *     ret
 * g2: add ebx, 100
 *     ret
 */
static const uint8_t code_table[] = {
    0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x3d, 0x10, 0x00, 0x00, 0xc7, 0x05,
    0x04, 0x00, 0x01, 0x00, 0x41, 0x10, 0x00, 0x00, 0xc7, 0x05, 0x08, 0x00,
    0x01, 0x00, 0x45, 0x10, 0x00, 0x00, 0x31, 0xdb, 0xbe, 0x2c, 0x01, 0x00,
    0x00, 0x89, 0xf1, 0x83, 0xe1, 0x03, 0x83, 0xf9, 0x03, 0x75, 0x02, 0x31,
    0xc9, 0xff, 0x14, 0x8d, 0x00, 0x00, 0x01, 0x00, 0x4e, 0x75, 0xea, 0xcd,
    0x80, 0x83, 0xc3, 0x01, 0xc3, 0x83, 0xc3, 0x0a, 0xc3, 0x83, 0xc3, 0x64,
    0xc3,
};
/*
 *     mov ebx, 0xfffffffc
 *     mov eax, [ebx+0x14]
 *     mov ecx, 0xfffffff0
 *     mov dword ptr [ecx+0x24], 0x77
 *     int 0x80
 */
static const uint8_t code_wrap[] = {
    0xbb, 0xfc, 0xff, 0xff, 0xff, 0x8b, 0x43, 0x14, 0xb9, 0xf0, 0xff, 0xff,
    0xff, 0xc7, 0x41, 0x24, 0x77, 0x00, 0x00, 0x00, 0xcd, 0x80,
};
/*
 *     fld dword ptr [0x10000]
 *     fadd dword ptr [0x10004]
 *     fstp dword ptr [0x10008]
 *     fild dword ptr [0x1000c]
 *     fsqrt
 *     fistp dword ptr [0x10010]
 *     int 0x80
 */
static const uint8_t code_x87[] = {
    0xd9, 0x05, 0x00, 0x00, 0x01, 0x00, 0xd8, 0x05, 0x04, 0x00, 0x01, 0x00,
    0xd9, 0x1d, 0x08, 0x00, 0x01, 0x00, 0xdb, 0x05, 0x0c, 0x00, 0x01, 0x00,
    0xd9, 0xfa, 0xdb, 0x1d, 0x10, 0x00, 0x01, 0x00, 0xcd, 0x80,
};
/*
 *     mov ebx, 0x10000
 *     mov al, 3
 *     xlatb
 *     int 0x80
 */
static const uint8_t code_xlatb[] = {
    0xbb, 0x00, 0x00, 0x01, 0x00, 0xb0, 0x03, 0xd7, 0xcd, 0x80,
};

/* --- cases --------------------------------------------------------------- */

static uint32_t host_flags_add(uint32_t a, uint32_t b, uint32_t *res)
{
    uint64_t fl;
    __asm__("addl %2, %0\n\tpushfq\n\tpopq %1" : "+r"(a), "=r"(fl) : "r"(b) : "cc");
    *res = a;
    return (uint32_t)fl;
}

static uint32_t host_flags_sub(uint32_t a, uint32_t b, uint32_t *res)
{
    uint64_t fl;
    __asm__("subl %2, %0\n\tpushfq\n\tpopq %1" : "+r"(a), "=r"(fl) : "r"(b) : "cc");
    *res = a;
    return (uint32_t)fl;
}

static void test_xlat_arith_flags_match_host(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(arith, ex);
    assert_int80(cpu, &ex, code_arith, sizeof code_arith);
    uint32_t r, fl;
    fl = host_flags_add(0x7fffffff, 1, &r);
    assert_int_equal(R(cpu, EBX) & 0x8d5, fl & 0x8d5);
    assert_int_equal(R(cpu, EBX) & 0x202, 0x202); /* IF and bit 1 as pushed by hardware */
    fl = host_flags_sub(0, 1, &r);
    assert_int_equal(R(cpu, EAX), r);
    assert_int_equal(R(cpu, ECX) & 0x8d5, fl & 0x8d5);
    assert_int_equal(R(cpu, EDX), 0x12345678u * 3);
    assert_int_equal(R(cpu, ESI), 0);
    assert_int_equal(R(cpu, EDI) & 0x41, 0x41); /* ZF, CF from the bit shifted out */
    cpu_destroy(cpu);
}

static void test_xlat_memory_operand_forms(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(memforms, ex);
    assert_int80(cpu, &ex, code_memforms, sizeof code_memforms);
    assert_int_equal(rd32(cpu, 0x10000), 16);
    assert_int_equal(rd32(cpu, 0x10010), 22);
    assert_int_equal(rd32(cpu, 0x10120), 33);
    assert_int_equal(rd32(cpu, 0x10200), 44);
    assert_int_equal(R(cpu, EAX), 44);
    assert_int_equal(R(cpu, ECX), 0x10200);
    assert_int_equal(R(cpu, EDX), 22);
    assert_int_equal(R(cpu, EDI), 33);
    assert_int_equal(R(cpu, ESI), 0x55 + 44);
    assert_int_equal(rd32(cpu, STACK_TOP - 4), 0x55);
    cpu_destroy(cpu);
}

static void test_xlat_address_wraps_at_4g(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    wr32(cpu, 0x10, 0xcafe);
    load(cpu, code_wrap, sizeof code_wrap, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_wrap, sizeof code_wrap);
    assert_int_equal(R(cpu, EAX), 0xcafe);
    assert_int_equal(rd32(cpu, 0x14), 0x77);
    cpu_destroy(cpu);
}

static void test_xlat_16bit_addressing(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    wr32(cpu, 0x8, 0x1234);
    wr32(cpu, 0x20, 0x5678);
    load(cpu, code_addr16, sizeof code_addr16, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_addr16, sizeof code_addr16);
    assert_int_equal(R(cpu, EAX), 0x1234);                 /* (0xfffc + 8 + 4) & 0xffff */
    assert_int_equal(rd32(cpu, 0x10), 0xabcd);             /* (0x812 + 0xf800 - 2) & 0xffff */
    assert_int_equal(R(cpu, EDX), (0xfffcu + 8 + 0x100) & 0xffff);
    assert_int_equal(R(cpu, ESI), 0x5678);
    cpu_destroy(cpu);
}

static void test_xlat_fs_gs_bases(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    wr32(cpu, 0x10008, 41);
    wr32(cpu, 0x10ffc, 0xbeef);
    load(cpu, code_fsgs, sizeof code_fsgs, PROT_READ | PROT_EXEC);
    cpu_state(cpu)->seg[VMP_FS].base = 0x10000;
    cpu_state(cpu)->seg[VMP_GS].base = 0x11000;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_fsgs, sizeof code_fsgs);
    assert_int_equal(R(cpu, EAX), 41);
    assert_int_equal(rd32(cpu, 0x11014), 7);
    assert_int_equal(R(cpu, EDX), 0xbeef);                 /* gs:[-4] wraps below the base */
    assert_int_equal(R(cpu, EBX), 42);
    cpu_destroy(cpu);
}

static void test_xlat_push_pop_call_ret_enter_leave(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(stack, ex);
    assert_int80(cpu, &ex, code_stack, sizeof code_stack);
    assert_int_equal(R(cpu, EBX), 0xfffffffe);
    assert_int_equal(R(cpu, ECX), 0x11223344);
    assert_int_equal(rd32(cpu, 0x10004), 0x99);
    /* pop [esp-4] stores at the incremented ESP - 4, so the slot below (-2) is untouched */
    assert_int_equal(R(cpu, ESI), 0xfffffffe);
    assert_int_equal(R(cpu, EDI), 0x42);
    assert_int_equal(R(cpu, EAX), 15);  /* popad restored, then f3(7, 8) */
    assert_int_equal(R(cpu, ESP), STACK_TOP);
    assert_true(R(cpu, EDX) > CODE && R(cpu, EDX) < CODE + sizeof code_stack); /* return address */
    cpu_destroy(cpu);
}

static void test_xlat_pushf_popf(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(flags, ex);
    assert_int80(cpu, &ex, code_flags, sizeof code_flags);
    assert_int_equal(R(cpu, EBX) & 0x2, 0x2);
    assert_int_equal(R(cpu, EDX) & 0x2008d5, 0x2008d5); /* arithmetic flags and ID round trip */
    assert_int_equal(R(cpu, EDX) & 0x200, 0x200);       /* IF stays set at CPL 3 */
    assert_int_equal(R(cpu, ESI) & 0x400, 0x400);       /* DF */
    assert_int_equal(cpu_state(cpu)->eflags & 0x401, 0x001); /* cld; stc */
    assert_int_equal((R(cpu, EAX) >> 8) & 1, 1);        /* lahf: CF in AH */
    cpu_destroy(cpu);
}

static void test_xlat_rep_string_ops_df0_df1(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    uint8_t *src = cpu_user_ptr(cpu, 0x10000);
    for (int i = 0; i < 64; i++)
        src[i] = (uint8_t)(i + 1);
    src[3] = 7; /* first 7 for scasb */
    load(cpu, code_strings, sizeof code_strings, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_strings, sizeof code_strings);
    assert_memory_equal(cpu_user_ptr(cpu, 0x11000), src, 64);
    assert_int_equal(R(cpu, EBP), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(rd32(cpu, 0x12000 + 4 * i), 0xdeadbeef);
    assert_int_equal(rd32(cpu, 0x12020), 0);
    assert_memory_equal(cpu_user_ptr(cpu, 0x13000), src, 16);       /* backwards copy */
    assert_int_equal(rd32(cpu, 0x14000), 0x1300f - 16);
    assert_int_equal(rd32(cpu, 0x14004), 0x1000f - 16);
    /* repe cmpsb: 0x11000 is a copy of 0x10000 for 64 bytes: no mismatch */
    assert_int_equal(rd32(cpu, 0x14008), 0);
    assert_int_equal(rd32(cpu, 0x1400c), 0x10040);
    /* repne scasb finds the 7 at index 3 */
    assert_int_equal(rd32(cpu, 0x14010), 60);
    assert_int_equal(rd32(cpu, 0x14014), 0x10004);
    assert_int_equal(R(cpu, EAX) & 0xff, src[0x40]);
    assert_int_equal(R(cpu, ESI), 0x10041);
    cpu_destroy(cpu);
}

static void test_xlat_rep_movs_fault_midway_resumes(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    assert_int_equal(cpu_user_map(cpu, 0x40000, 0x1000, PROT_READ | PROT_WRITE, -1, 0), 0);
    uint8_t *p = cpu_user_ptr(cpu, 0x40f00);
    for (int i = 0; i < 0x100; i++)
        p[i] = (uint8_t)i;
    load(cpu, code_repfault, sizeof code_repfault, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 14);
    assert_int_equal(ex.error_code, 4);      /* user read, not present */
    assert_int_equal(ex.fault_gla, 0x41000);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 16); /* at rep movsb */
    assert_int_equal(R(cpu, ECX), 0x100);
    assert_int_equal(R(cpu, ESI), 0x41000);
    assert_int_equal(R(cpu, EDI), 0x10100);
    assert_memory_equal(cpu_user_ptr(cpu, 0x10000), p, 0x100);
    assert_int_equal(cpu_user_map(cpu, 0x41000, 0x1000, PROT_READ | PROT_WRITE, -1, 0), 0);
    memset(cpu_user_ptr(cpu, 0x41000), 0x5a, 0x100);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_repfault, sizeof code_repfault);
    assert_int_equal(R(cpu, ECX), 0);
    assert_int_equal(R(cpu, ESI), 0x41100);
    assert_int_equal(rd32(cpu, 0x101fc), 0x5a5a5a5a);
    cpu_destroy(cpu);
}

static void test_xlat_string_ops_with_fs_source_and_16bit_addressing(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    memcpy(cpu_user_ptr(cpu, 0x10100), "ABCDEFGH", 8);
    load(cpu, code_strseg, sizeof code_strseg, PROT_READ | PROT_EXEC);
    cpu_state(cpu)->seg[VMP_FS].base = 0x10000;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_strseg, sizeof code_strseg);
    assert_memory_equal(cpu_user_ptr(cpu, 0x12000), "ABCDEFGH", 8);
    assert_memory_equal(cpu_user_ptr(cpu, 0x100), "\x33\x33\x33\x33\x33\0", 6);
    assert_int_equal(R(cpu, ECX), 0x10000);      /* CX counted, upper half kept */
    assert_int_equal(R(cpu, EDI), 0xabcd0105);   /* DI advanced, upper half kept */
    assert_int_equal(R(cpu, EAX) & 0xff, 'C');    /* xlat fs:[0x100 + 2] */
    cpu_destroy(cpu);
}

static void test_xlat_divide_error(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(divzero, ex);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 0);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 9);
    assert_int_equal(R(cpu, EAX), 1);
    cpu_destroy(cpu);
}

static void test_xlat_masked_sse2_raises_ud(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = run_code(code_sse2, sizeof code_sse2, FEAT_I686_EDX, &ex);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 6);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 5);
    assert_int_equal(R(cpu, EAX), 1);
    cpu_destroy(cpu);
    cpu = RUN(sse2, ex);
    assert_int80(cpu, &ex, code_sse2, sizeof code_sse2);
    assert_int_equal(R(cpu, EAX), 2);
    cpu_destroy(cpu);
}

static void test_xlat_lzcnt_without_abm_is_bsr(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(lzcnt, ex);
    assert_int80(cpu, &ex, code_lzcnt, sizeof code_lzcnt);
    assert_int_equal(R(cpu, EAX), 23); /* BSR: index of the highest set bit */
    cpu_destroy(cpu);
}

static void test_xlat_self_modifying_code_same_block(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    load(cpu, code_smc, sizeof code_smc, PROT_READ | PROT_WRITE | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_smc, sizeof code_smc);
    assert_int_equal(R(cpu, EAX), 42);
    struct cpu_stats stats;
    cpu_get_stats(cpu, &stats);
    assert_true(stats.smc_invalidations >= 1);
    /* run it again from the start: the patched code is translated afresh */
    cpu_state(cpu)->eip = CODE;
    memcpy(cpu_user_ptr(cpu, CODE + 8), "\x05", 1);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_smc, sizeof code_smc);
    assert_int_equal(R(cpu, EAX), 42);
    cpu_destroy(cpu);
}

static void test_xlat_cpuid_returns_profile(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(cpuid, ex);
    assert_int80(cpu, &ex, code_cpuid, sizeof code_cpuid);
    assert_int_equal(R(cpu, ESI), 1);
    assert_int_equal(R(cpu, EAX), 0x6d8);
    assert_int_equal(R(cpu, EDX), FEAT_SSE2_EDX);
    assert_int_equal(R(cpu, ECX), 0);
    cpu_destroy(cpu);
}

struct kicker {
    struct cpu *cpu;
    uint32_t want;
};

static void *kick_later(void *arg)
{
    struct kicker *k = arg;
    /* wait until the guest has run (it counts in memory), at most 10 s,
     * so a loaded machine does not kick before the loop started */
    volatile uint32_t *count = cpu_user_ptr(k->cpu, 0x10000);
    struct timespec ts = {0, 1000 * 1000};
    for (int i = 0; i < 10000 && *count < k->want; i++)
        nanosleep(&ts, NULL);
    cpu_kick(k->cpu);
    return NULL;
}

static void test_xlat_kick_stops_tight_loop(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    load(cpu, code_spin, sizeof code_spin, PROT_READ | PROT_EXEC);
    for (int round = 0; round < 2; round++) {
        uint32_t before = R(cpu, EAX);
        struct kicker k = {cpu, before + 100000};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, kick_later, &k), 0);
        assert_int_equal(cpu_run(cpu, &ex), 0);
        pthread_join(t, NULL);
        assert_int_equal(ex.reason, CPU_EXIT_KICK);
        assert_int_equal(cpu_state(cpu)->eip, CODE); /* the loop's block boundary */
        assert_true(R(cpu, EAX) - before >= 100000);
    }
    cpu_destroy(cpu);
}

static void test_xlat_deep_recursion(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(recurse, ex);
    assert_int80(cpu, &ex, code_recurse, sizeof code_recurse);
    assert_int_equal(R(cpu, EAX), 20000u * 20001u / 2);
    assert_int_equal(R(cpu, ESP), STACK_TOP);
    cpu_destroy(cpu);
}

static void test_xlat_longjmp_like_stack_switch(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(longjmp, ex);
    assert_int_equal(ex.reason, CPU_EXIT_INT);
    assert_int_equal(R(cpu, EAX), 99);
    assert_int_equal(R(cpu, ESP), STACK_TOP);
    cpu_destroy(cpu);
}

static void test_xlat_indirect_calls_through_table(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(table, ex);
    assert_int80(cpu, &ex, code_table, sizeof code_table);
    /* esi = 300..1: esi&3 = 1 -> g1, 2 -> g2, 0 and 3 -> g0 */
    uint32_t want = 0;
    for (uint32_t i = 300; i > 0; i--)
        want += (i & 3) == 1 ? 10 : (i & 3) == 2 ? 100 : 1;
    assert_int_equal(R(cpu, EBX), want);
    cpu_destroy(cpu);
}

static void test_xlat_int3_and_hlt(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(excs, ex);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 3);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 1); /* trap: after INT3 */
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 13);                 /* HLT at CPL 3 */
    assert_int_equal(ex.has_error_code, 1);
    assert_int_equal(ex.error_code, 0);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 1);
    cpu_destroy(cpu);
}

static void test_xlat_page_fault_on_write(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(pf, ex);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 14);
    assert_int_equal(ex.error_code, 6);
    assert_int_equal(ex.fault_gla, 0x50000);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 5);
    /* a read-only page: present bit set */
    assert_int_equal(cpu_user_map(cpu, 0x50000, 0x1000, PROT_READ, -1, 0), 0);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.vector, 14);
    assert_int_equal(ex.error_code, 7);
    assert_int_equal(cpu_user_protect(cpu, 0x50000, 0x1000, PROT_READ | PROT_WRITE), 0);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_pf, sizeof code_pf);
    assert_int_equal(rd32(cpu, 0x50000), 5);
    cpu_destroy(cpu);
}

static void test_xlat_loop_and_jecxz(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(loop, ex);
    assert_int80(cpu, &ex, code_loop, sizeof code_loop);
    assert_int_equal(R(cpu, EAX), 15);
    cpu_destroy(cpu);
}

static void test_xlat_bcd_and_segment_push_are_emulated(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    load(cpu, code_bcd, sizeof code_bcd, PROT_READ | PROT_EXEC);
    cpu_state(cpu)->seg[VMP_DS].selector = 0x7b;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_bcd, sizeof code_bcd);
    assert_int_equal(R(cpu, EBX) & 0xffff, 0x0987);  /* 0x79 + 0x08 = 0x81, DAA -> 0x87 */
    assert_int_equal(R(cpu, ECX) & 0xffff, 0x000f);  /* AAD: 1 * 10 + 5 */
    assert_int_equal(R(cpu, EDX), 0x7b);
    cpu_destroy(cpu);
}

static void test_xlat_xlatb(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    memcpy(cpu_user_ptr(cpu, 0x10000), "\x10\x11\x12\x13", 4);
    load(cpu, code_xlatb, sizeof code_xlatb, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_xlatb, sizeof code_xlatb);
    assert_int_equal(R(cpu, EAX) & 0xff, 0x13);
    cpu_destroy(cpu);
}

static void test_xlat_x87_runs_natively(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    float a = 1.5f, b = 2.25f;
    memcpy(cpu_user_ptr(cpu, 0x10000), &a, 4);
    memcpy(cpu_user_ptr(cpu, 0x10004), &b, 4);
    wr32(cpu, 0x1000c, 144);
    load(cpu, code_x87, sizeof code_x87, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_x87, sizeof code_x87);
    float c;
    memcpy(&c, cpu_user_ptr(cpu, 0x10008), 4);
    assert_true(c == 3.75f);
    assert_int_equal(rd32(cpu, 0x10010), 12);
    cpu_destroy(cpu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xlat_arith_flags_match_host),
        cmocka_unit_test(test_xlat_memory_operand_forms),
        cmocka_unit_test(test_xlat_address_wraps_at_4g),
        cmocka_unit_test(test_xlat_16bit_addressing),
        cmocka_unit_test(test_xlat_fs_gs_bases),
        cmocka_unit_test(test_xlat_push_pop_call_ret_enter_leave),
        cmocka_unit_test(test_xlat_pushf_popf),
        cmocka_unit_test(test_xlat_rep_string_ops_df0_df1),
        cmocka_unit_test(test_xlat_rep_movs_fault_midway_resumes),
        cmocka_unit_test(test_xlat_string_ops_with_fs_source_and_16bit_addressing),
        cmocka_unit_test(test_xlat_divide_error),
        cmocka_unit_test(test_xlat_masked_sse2_raises_ud),
        cmocka_unit_test(test_xlat_lzcnt_without_abm_is_bsr),
        cmocka_unit_test(test_xlat_self_modifying_code_same_block),
        cmocka_unit_test(test_xlat_cpuid_returns_profile),
        cmocka_unit_test(test_xlat_kick_stops_tight_loop),
        cmocka_unit_test(test_xlat_deep_recursion),
        cmocka_unit_test(test_xlat_longjmp_like_stack_switch),
        cmocka_unit_test(test_xlat_indirect_calls_through_table),
        cmocka_unit_test(test_xlat_int3_and_hlt),
        cmocka_unit_test(test_xlat_page_fault_on_write),
        cmocka_unit_test(test_xlat_loop_and_jecxz),
        cmocka_unit_test(test_xlat_bcd_and_segment_push_are_emulated),
        cmocka_unit_test(test_xlat_xlatb),
        cmocka_unit_test(test_xlat_x87_runs_natively),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
