/*
 * sys_strio.S - INS and OUTS in system mode. The fake board's port 0xF6
 * reads as a counter (one per byte, from 0), port 0xF7 logs what is
 * written; the harness checks the log and the number of bytes read. One
 * letter per check:
 *   i  rep insb, DF=0: five bytes 0..4, ECX=0, EDI past them
 *   w  rep insw: two words 5..8
 *   d  insl without REP: one dword 9..12, ECX untouched
 *   b  rep insb with DF=1: 13..15 written downwards, EDI below the start
 *   e  insw through an ES whose base is 0x1000 (the descriptor's base)
 *   o  rep outsb through an FS override (base 0x1000), outsw, rep outsl
 *      with DF=1: the log gets "abc", "de", "5678", "1234"
 *   p  paging on: rep insb into a page that is not present takes #PF
 *      (CR2, error 2, EIP at the INS, ECX/EDI at the elements done); after
 *      the handler maps it the INS goes on: 18..23 without a gap
 *   q  rep outsb from a page that is not present: #PF (error 0) midway,
 *      then the rest: the log gets "xyzw" once
 *   g  at ring 3 with IOPL 0 and the TSS's I/O map base past its limit:
 *      insb raises #GP(0) and reads no port
 *   m  at ring 3 with IOPL 0 and an I/O bit map that allows port 0xF6
 *      only: insb reads it, in from 0xF5 raises #GP(0)
 *   G  at ring 3 with IOPL 3: insb works (25 at ES:EDI)
 * Then 0 to port 0xF4 and CLI; HLT. Anything unexpected: 'X', exit 1.
 */
    .code32
    .text
    .globl _start
#include "guest_start.inc"
_start:
    flat_start stack0_top
    idt_fill_bad 256
    mov $13, %ecx
    mov $h_gp, %eax
    call set_gate
    mov $14, %ecx
    mov $h_pf, %eax
    call set_gate
    syscall_gate h_sys
    lidt idt_desc
    tss_at 0x30
    movb $0x88, gdt + 0x30          /* limit: the I/O bit map at 0x68 and its end byte */
    mov $tss + 0x68, %edi
    mov $33, %ecx
    mov $0xff, %al
    rep stosb
    andb $~0x40, tss + 0x68 + 0xf6 / 8   /* port 0xF6 allowed */
    movw $0x1000, tss + 0x66        /* no map until m */
    mov $0x30, %ax
    ltr %ax
    cld

    /* i */
    mov $0xf6, %dx
    mov $buf, %edi
    mov $5, %ecx
    rep insb
    test %ecx, %ecx
    jnz bad
    cmp $buf + 5, %edi
    jne bad
    cmpl $0x03020100, buf
    jne bad
    cmpb $4, buf + 4
    jne bad
    mov $'i', %al
    call putc

    /* w */
    mov $0xf6, %dx
    mov $buf, %edi
    mov $2, %ecx
    rep insw
    cmp $buf + 4, %edi
    jne bad
    cmpl $0x08070605, buf
    jne bad
    mov $'w', %al
    call putc

    /* d */
    mov $0xf6, %dx
    mov $buf, %edi
    mov $0x77, %ecx
    insl
    cmp $0x77, %ecx
    jne bad
    cmp $buf + 4, %edi
    jne bad
    cmpl $0x0c0b0a09, buf
    jne bad
    mov $'d', %al
    call putc

    /* b */
    movl $0, buf
    mov $0xf6, %dx
    mov $buf + 2, %edi
    mov $3, %ecx
    std
    rep insb
    cld
    cmp $buf - 1, %edi
    jne bad
    cmpl $0x000d0e0f, buf
    jne bad
    mov $'b', %al
    call putc

    /* e */
    movl $0, buf
    mov $0x28, %ax
    mov %ax, %es
    mov $0xf6, %dx
    mov $buf - 0x1000, %edi
    insw
    mov $0x10, %ax
    mov %ax, %es
    cmp $buf - 0x1000 + 2, %edi
    jne bad
    cmpl $0x1110, buf
    jne bad
    mov $'e', %al
    call putc

    /* o */
    mov $0x28, %ax
    mov %ax, %fs
    mov $0xf7, %dx
    mov $msg - 0x1000, %esi
    mov $3, %ecx
    rep outsb %fs:(%esi), (%dx)
    mov $0x10, %ax
    mov %ax, %fs
    test %ecx, %ecx
    jnz bad
    cmp $msg - 0x1000 + 3, %esi
    jne bad
    mov $msg + 3, %esi
    outsw
    cmp $msg + 5, %esi
    jne bad
    mov $msg2 + 4, %esi
    mov $2, %ecx
    std
    rep outsl
    cld
    cmp $msg2 - 4, %esi
    jne bad
    mov $'o', %al
    call putc

    /* p: identity paging of the first 4 MiB, hole and hole2 not present */
    pt_identity pt0, 3
    movw $0x777a, hole2             /* "zw" */
    movw $0x7978, hole2 - 2         /* "xy" */
    mov $hole, %eax
    call pte_clear_p
    mov $hole2, %eax
    call pte_clear_p
    mov $pt0 + 3, %eax
    mov %eax, pd
    mov $pd, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80000000, %eax
    mov %eax, %cr0
    movl $1, phase
    mov $0xf6, %dx
    mov $hole - 3, %edi
    mov $6, %ecx
pf_ins:
    rep insb
    cmpl $2, phase
    jne bad
    test %ecx, %ecx
    jnz bad
    cmp $hole + 3, %edi
    jne bad
    cmpl $0x15141312, hole - 3
    jne bad
    cmpw $0x1716, hole + 1
    jne bad
    mov $'p', %al
    call putc

    /* q */
    movl $3, phase
    mov $0xf7, %dx
    mov $hole2 - 2, %esi
    mov $4, %ecx
pf_outs:
    rep outsb
    cmpl $4, phase
    jne bad
    test %ecx, %ecx
    jnz bad
    cmp $hole2 + 2, %esi
    jne bad
    mov $'q', %al
    call putc
    mov %cr0, %eax
    and $0x7fffffff, %eax
    mov %eax, %cr0

    /* g: ring 3, IOPL 0 */
    movl $5, phase
    pushl $0x23
    pushl $stack3_top
    pushl $0x002
    pushl $0x1b
    pushl $user_g
    iret
user_g:
    mov $0x23, %ax
    mov %ax, %es
    mov $0xf6, %dx
    mov $ubuf, %edi
u_ins:
    insb
    jmp bad

back_g:
    /* m: ring 3, IOPL 0, the TSS's I/O bit map allows port 0xF6 only */
    movw $0x68, tss + 0x66
    movl $7, phase
    pushl $0x23
    pushl $stack3_top
    pushl $0x002
    pushl $0x1b
    pushl $user_m
    iret
user_m:
    mov $0x23, %ax
    mov %ax, %es
    mov $0xf6, %dx
    mov $ubuf, %edi
    insb
    cmpb $24, ubuf
    jne bad
u_in:
    in $0xf5, %al                   /* its bit is set: #GP(0) */
    jmp bad

back_m:
    /* G: ring 3, IOPL 3 */
    movl $6, phase
    pushl $0x23
    pushl $stack3_top
    pushl $0x3002
    pushl $0x1b
    pushl $user_G
    iret
user_G:
    mov $0x23, %ax
    mov %ax, %es
    mov $0xf6, %dx
    mov $ubuf, %edi
    insb
    int $0x80
    jmp bad

done:
    jmp pass

/* the present bit of the PTE of linear eax (below 4 MiB) */
pte_clear_p:
    shr $12, %eax
    andl $~1, pt0(,%eax,4)
    ret
pte_set_p:
    shr $12, %eax
    orl $1, pt0(,%eax,4)
    ret

h_pf:
    cmpl $1, phase
    je 1f
    cmpl $3, phase
    je 3f
    jmp bad
1:  cmpl $2, (%esp)                 /* write to a page not present */
    jne bad
    cmpl $pf_ins, 4(%esp)
    jne bad
    cmp $3, %ecx
    jne bad
    cmp $hole, %edi
    jne bad
    mov %cr2, %eax
    cmp $hole, %eax
    jne bad
    mov $hole, %eax
    call pte_set_p
    invlpg hole
    movl $2, phase
    add $4, %esp
    iret
3:  cmpl $0, (%esp)                 /* read of a page not present */
    jne bad
    cmpl $pf_outs, 4(%esp)
    jne bad
    cmp $2, %ecx
    jne bad
    cmp $hole2, %esi
    jne bad
    mov %cr2, %eax
    cmp $hole2, %eax
    jne bad
    mov $hole2, %eax
    call pte_set_p
    invlpg hole2
    movl $4, phase
    add $4, %esp
    iret

h_gp:
    mov $0x10, %cx
    mov %cx, %ds
    mov %cx, %es
    cmpl $7, phase
    je 7f
    cmpl $5, phase
    jne bad
    cmpl $0, (%esp)
    jne bad
    cmpl $u_ins, 4(%esp)
    jne bad
    cmpl $0x1b, 8(%esp)
    jne bad
    cmp $ubuf, %edi                 /* nothing done */
    jne bad
    mov $'g', %al
    call putc
    mov $stack0_top, %esp
    jmp back_g
7:  cmpl $0, (%esp)
    jne bad
    cmpl $u_in, 4(%esp)
    jne bad
    mov $'m', %al
    call putc
    mov $stack0_top, %esp
    jmp back_m

h_sys:
    mov $0x10, %cx
    mov %cx, %ds
    mov %cx, %es
    cmpl $6, phase
    jne bad
    cmpb $25, ubuf
    jne bad
    cmp $ubuf + 1, %edi
    jne bad
    mov $'G', %al
    call putc
    mov $stack0_top, %esp
    jmp done

#include "guest_lib.inc"

    .data
    gdt_flat 1
    .quad 0x00cf92001000ffff    /* 0x28 data 0, base 0x1000 */
    .quad 0x0000890000000067    /* 0x30 TSS, base patched */
gdt_end:
    desc_tables 256
phase:
    .long 0
msg:
    .ascii "abcde"
msg2:
    .ascii "12345678"
    .bss
    .align 4096
pd:
    .space 4096
pt0:
    .space 4096
    .space 4096
hole:
    .space 4096
    .space 4096
hole2:
    .space 4096
idt:
    .space 256 * 8
tss:
    .space 0x68 + 33
buf:
    .space 16
ubuf:
    .space 16
    .space 4096
stack0_top:
    .space 4096
stack3_top:
