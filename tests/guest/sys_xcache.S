/*
 * sys_xcache.S - the translated-code cache across paging and segment
 * changes in a tiny system-mode guest (started like sys_paging.S). Paging
 * with CR4.PGE; the low 4 MiB identity-mapped with global pages. Reports:
 *   G  code at 0x400000 (a global page) runs; after a CR3 write to other
 *      tables mapping the same physical page there, it still runs right
 *   N  after a CR3 write to tables mapping a different physical page (also
 *      global) at 0x400000, the new code runs; back again, the old code
 *   T  after a PTE change at 0x400000 (global) to another frame and a
 *      CR4.PGE toggle (no CR3 write, no INVLPG), the new code runs; the
 *      code of unchanged pages keeps running right
 *   L  data at 0x401000 (not global) after CR3 writes between tables
 *      mapping different frames there: each time the new frame's
 *   P  code patched through a second linear alias of its physical page
 *      (0x800000), then run through the first: the new code runs (twice)
 *   F  the same code reading fs:[4] under twenty FS bases in turn, thrice and
 *      interleaved (more than the translator's block sets): right values
 * then writes 0 to port 0xF4 and stops with CLI; HLT. 'X' = failure.
 */
    .code32
    .text
    .globl _start
#include "guest_start.inc"
_start:
    flat_start stack_top
    idt_fill_bad 32
    lidt idt_desc

    /* pt: 1024 x 4 KiB identity, present|rw|global */
    pt_identity pt, 0x103
    /* 0x400000: frame of code_a (pd1, pd2) or of code_b (pd3), global */
    mov $code_a, %eax
    or $0x103, %eax
    mov %eax, pt_a
    mov $code_b, %eax
    or $0x103, %eax
    mov %eax, pt_b
    /* 0x800000: writable alias of code_c's frame (pd1) */
    mov $code_c, %eax
    or $3, %eax
    mov %eax, pt_c
    mov $pt, %eax
    or $3, %eax
    mov %eax, pd1
    mov %eax, pd2
    mov %eax, pd3
    mov $pt_a, %eax
    or $3, %eax
    mov %eax, pd1 + 4
    mov %eax, pd2 + 4
    mov $pt_b, %eax
    or $3, %eax
    mov %eax, pd3 + 4
    mov $pt_c, %eax
    or $3, %eax
    mov %eax, pd1 + 8

    mov %cr4, %eax
    or $0x90, %eax                       /* PSE | PGE */
    mov %eax, %cr4
    mov $pd1, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80010000, %eax                 /* PG | WP */
    mov %eax, %cr0
    jmp 4f
4:
    /* G */
    call run_400
    cmp $0xa1, %eax
    jne bad
    mov $pd2, %eax
    mov %eax, %cr3
    call run_400
    cmp $0xa1, %eax
    jne bad
    call run_400
    cmp $0xa1, %eax
    jne bad
    mov $'G', %al
    call putc

    /* N */
    mov $pd3, %eax
    mov %eax, %cr3
    call run_400
    cmp $0xb2, %eax
    jne bad
    call run_400
    cmp $0xb2, %eax
    jne bad
    mov $pd1, %eax
    mov %eax, %cr3
    call run_400
    cmp $0xa1, %eax
    jne bad
    mov $'N', %al
    call putc

    /* T (pd1 is current) */
    mov $code_b, %eax
    or $0x103, %eax
    mov %eax, pt_a
    call pge_toggle
    call run_400
    cmp $0xb2, %eax
    jne bad
    call code_c
    cmp $0xc3, %eax
    jne bad
    mov $code_a, %eax
    or $0x103, %eax
    mov %eax, pt_a
    call pge_toggle
    call run_400
    cmp $0xa1, %eax
    jne bad
    mov $'T', %al
    call putc

    /* L */
    movl $0x1111, lbuf1
    movl $0x2222, lbuf2
    mov $lbuf1, %eax
    or $3, %eax
    mov %eax, pt_a + 4
    mov $lbuf2, %eax
    or $3, %eax
    mov %eax, pt_b + 4
    mov $pd1, %eax
    mov %eax, %cr3
    cmpl $0x1111, 0x401000
    jne bad
    mov $pd3, %eax
    mov %eax, %cr3
    cmpl $0x2222, 0x401000
    jne bad
    movl $0x3333, 0x401000
    mov $pd1, %eax
    mov %eax, %cr3
    cmpl $0x1111, 0x401000
    jne bad
    cmpl $0x3333, lbuf2
    jne bad
    mov $'L', %al
    call putc

    /* P */
    call code_c
    cmp $0xc3, %eax
    jne bad
    call code_c
    cmp $0xc3, %eax
    jne bad
    movl $0xd4, 0x800000 + (code_c_imm - code_c)
    call code_c
    cmp $0xd4, %eax
    jne bad
    movl $0xe5, 0x800000 + (code_c_imm - code_c)
    call code_c
    cmp $0xe5, %eax
    jne bad
    mov $'P', %al
    call putc

    /* F: descriptor 0x18 + 8k has base fsbuf + 16k; fsbuf[16k + 4] = k * 0x1111 + 0x10 */
    mov $0, %ecx
5:  mov %ecx, %eax
    shl $4, %eax
    add $fsbuf, %eax
    mov %eax, %edx
    shl $16, %edx
    or $0xffff, %edx
    mov %edx, gdt_fs(,%ecx,8)
    shr $16, %eax
    and $0xff, %eax
    or $0x00cf9200, %eax
    mov %eax, gdt_fs + 4(,%ecx,8)
    imul $0x1111, %ecx, %eax
    add $0x10, %eax
    mov %ecx, %edx
    shl $4, %edx
    mov %eax, fsbuf + 4(%edx)
    inc %ecx
    cmp $20, %ecx
    jne 5b
    mov $0, %esi                          /* round: k = (i * step) % 20 */
6:  mov %esi, %eax
    xor %edx, %edx
    mov $20, %ecx
    div %ecx
    mov %edx, %edi                        /* i % 20 */
    cmp $20, %esi
    jb 7f
    cmp $40, %esi
    jb 8f
    imul $3, %edi, %edi                   /* third pass: k = 3i % 20 */
    mov %edi, %eax
    xor %edx, %edx
    div %ecx
    mov %edx, %edi
    jmp 7f
8:  mov $19, %eax                          /* second pass: backwards */
    sub %edi, %eax
    mov %eax, %edi
7:  lea 0x18(,%edi,8), %eax
    mov %ax, %fs
    call read_fs
    imul $0x1111, %edi, %edx
    add $0x10, %edx
    cmp %edx, %eax
    jne bad
    inc %esi
    cmp $60, %esi
    jne 6b
    mov $'F', %al
    call putc

    jmp pass

pge_toggle:                               /* as Linux flushes global pages */
    mov %cr4, %eax
    and $~0x80, %eax
    mov %eax, %cr4
    or $0x80, %eax
    mov %eax, %cr4
    ret

run_400:
    mov $0x400000, %eax
    jmp *%eax

read_fs:
    mov %fs:4, %eax
    ret

#include "guest_lib.inc"

    /* code pages, each alone in its frame */
    .align 4096
code_a:
    mov $0xa1, %eax
    ret
    .align 4096
code_b:
    mov $0xb2, %eax
    ret
    .align 4096
code_c:
    .byte 0xb8                            /* mov $imm32, %eax */
code_c_imm:
    .long 0xc3
    ret
    .align 4096

    .data
    gdt_flat
gdt_fs:
    .space 20 * 8
gdt_end:
    desc_tables 32
    .bss
    .align 4096
pd1:
    .space 4096
pd2:
    .space 4096
pd3:
    .space 4096
pt:
    .space 4096
pt_a:
    .space 4096
pt_b:
    .space 4096
pt_c:
    .space 4096
fsbuf:
    .space 4096
lbuf1:
    .space 4096
lbuf2:
    .space 4096
idt:
    .space 32 * 8
    .space 4096
stack_top:
