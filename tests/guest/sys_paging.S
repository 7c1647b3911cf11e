/*
 * sys_paging.S - paging in a tiny system-mode guest (started like
 * sys_basic.S). It builds a page directory: the first 4 MiB identity-
 * mapped with 4 KiB pages, and 0xC0000000 as a 4 MiB page (CR4.PSE) onto
 * physical 0, as Linux's head_32.S does; turns on CR0.PG|WP, and reports:
 *   L  code patched through the 4 MiB alias runs patched, whether the
 *      alias was mapped after the code was translated or before
 *   A  a store through 0xC0000000+x is seen at x (alias)
 *   F  a store to unmapped 0x00800000 raised #PF, CR2 and error code 2
 *   M  the #PF handler mapped it; the store was restarted and landed
 *   D  the walker set A and D in the PTE of a page written to
 *   W  with CR0.WP a ring 0 store to a read-only page raised #PF(3)
 *   C  after a PTE change, a CR3 reload made the new frame visible
 * then writes 0 to port 0xF4 and stops with CLI; HLT. 'X' = failure.
 */
    .code32
    .text
    .globl _start
#include "guest_start.inc"
_start:
    flat_start stack_top
    idt_fill_bad 32
    mov $14, %ecx
    mov $h_pf, %eax
    call set_gate
    lidt idt_desc

    /* page table: 1024 x 4 KiB identity, present|rw|user */
    pt_identity pt, 7
    mov $pt, %eax
    or $7, %eax
    mov %eax, pd
    movl $0x00000083, pd + 0x300 * 4    /* 4 MiB page at 0, supervisor rw */
    mov %cr4, %eax
    or $0x10, %eax                       /* PSE */
    mov %eax, %cr4
    mov $pd, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80010000, %eax                 /* PG | WP */
    mov %eax, %cr0
    jmp 4f
4:
    /* L: translated first, then written through the alias */
    call lpatch_fn
    cmp $1, %eax
    jne bad
    movl $2, 0xC0000000 + lpatch_imm
    call lpatch_fn
    cmp $2, %eax
    jne bad
    /* translated again while the alias is mapped, written again */
    movl $3, 0xC0000000 + lpatch_imm
    call lpatch_fn
    cmp $3, %eax
    jne bad
    mov $'L', %al
    call putc

    /* A */
    movl $0x12345678, 0xC0000000 + var
    cmpl $0x12345678, var
    jne bad
    mov $'A', %al
    call putc

    /* F, M */
    movl $1, phase
    movl $0xabcd, 0x00800000
    cmpl $2, phase
    jne bad
    cmpl $0xabcd, 0x00800000
    jne bad
    cmpl $0xabcd, 0x00000000            /* the handler mapped 8 MiB -> 0 */
    jne bad
    mov $'M', %al
    call putc

    /* D: write var's page through the identity map (A was written
     * through the 4 MiB alias: its D went to that PDE) */
    movl $5, var
    mov $var, %ebx
    shr $12, %ebx
    mov pt(,%ebx,4), %eax
    and $0x60, %eax
    cmp $0x60, %eax
    jne bad
    mov $'D', %al
    call putc

    /* W: var's page read-only; a ring 0 store faults with WP */
    movl $3, phase
    andl $~2, pt(,%ebx,4)
    invlpg var
wp_here:
    movl $7, var
    cmpl $4, phase
    jne bad
    cmpl $7, var
    jne bad
    mov $'W', %al
    call putc

    /* C: linear page 0x3ff000 -> frame of buf1, then of buf2 */
    movl $0x11111111, buf1
    movl $0x22222222, buf2
    mov $buf1, %eax
    or $3, %eax
    mov %eax, pt + 1023 * 4
    mov %cr3, %eax
    mov %eax, %cr3
    cmpl $0x11111111, 0x3ff000
    jne bad
    mov $buf2, %eax
    or $3, %eax
    mov %eax, pt + 1023 * 4
    mov %cr3, %eax
    mov %eax, %cr3
    cmpl $0x22222222, 0x3ff000
    jne bad
    mov $'C', %al
    call putc

    jmp pass

h_pf:
    cmpl $1, phase
    je 1f
    cmpl $3, phase
    je 3f
    jmp bad
1:  mov %cr2, %eax
    cmp $0x00800000, %eax
    jne bad
    cmpl $2, (%esp)
    jne bad
    mov $'F', %al
    call putc
    movl $0x00000083, pd + 2 * 4         /* 8 MiB: 4 MiB page at 0 */
    movl $2, phase
    add $4, %esp
    iret
3:  cmpl $3, (%esp)
    jne bad
    cmpl $wp_here, 4(%esp)
    jne bad
    orl $2, pt(,%ebx,4)
    invlpg var
    movl $4, phase
    add $4, %esp
    iret

#include "guest_lib.inc"

    .align 4096
lpatch_fn:
    .byte 0xb8                           /* mov $imm32, %eax */
lpatch_imm:
    .long 1
    ret
    .align 4096

    .data
    gdt_flat
gdt_end:
    desc_tables 32
phase:
    .long 0
    .bss
    .align 4096
pd:
    .space 4096
pt:
    .space 4096
var:
    .space 4096
buf1:
    .space 4096
buf2:
    .space 4096
idt:
    .space 32 * 8
    .space 4096
stack_top:
