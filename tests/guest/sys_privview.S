/*
 * sys_privview.S - user and supervisor rights with paging, where the CPU
 * keeps one shadow view per privilege (DESIGN.md, "Memory"): what one
 * privilege has mapped must not leak into the other. Started like
 * sys_basic.S; identity paging with 4 KiB pages, supervisor by default,
 * some pages user. The ring 0 part first touches pages (so they are mapped
 * in its view with its rights), then ring 3 code tries them. FS and GS are
 * null at both privileges, so the two run under the same FS/GS assumptions.
 * One letter per check:
 *   U  a user read of a supervisor page ring 0 has written: #PF(5), CR2
 *   V  a user write to it: #PF(7)
 *   O  a user read of a user read-only page ring 0 wrote with CR0.WP=0
 *      sees ring 0's value; a user write to it: #PF(7)
 *   D  a user write sets D in the PTE of a page ring 0 had only read; after
 *      ring 0 clears D and runs INVLPG, the next user write sets it again
 *   K  a user call into a supervisor code page ring 0 has run: #PF(5) with
 *      CR2 = the target (not ring 0's translation run at ring 3)
 *   S  a user write patches code in a user page that ring 0 has run; ring
 *      0's next call runs the new code
 *   N  300 system calls from a loop that touches user pages (the harness
 *      checks that the views were not emptied and refilled on each)
 *   W  back at ring 0 with CR0.WP=1: a write to a user read-only page,
 *      #PF(3)
 * then writes 0 to port 0xF4 and stops with CLI; HLT. 'X' = failure.
 */
    .code32
    .text
    .globl _start
#include "guest_start.inc"

    /* ring 3: the instruction(s) after it must fault with #PF(err) at
     * addr; the #PF handler resumes at the local label 1 (ESI) */
    .macro uexpect err, addr
    jmp ubad
1:  cmpl $\err, got_err
    jne ubad
    cmpl $\addr, got_cr2
    jne ubad
    .endm

    .macro uputc letter
    mov $\letter, %bl
    mov $1, %eax
    int $0x80
    .endm

    /* ecx = the PTE index of label */
    .macro pte_of label
    mov $\label, %ecx
    shr $12, %ecx
    .endm

_start:
    flat_start stack0_top
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    idt_fill_bad 256
    mov $14, %ecx
    mov $h_pf, %eax
    call set_gate
    syscall_gate h_sys
    lidt idt_desc
    tss_at 0x28
    mov $0x28, %ax
    ltr %ax

    /* identity map of the first 4 MiB, supervisor read/write */
    pt_identity pt, 3
    mov $pt, %eax
    or $7, %eax
    mov %eax, pd
    /* user pages: code (read-only), shared variables, data, stack, the
     * patchable code page (read/write), a read-only page */
    mov $ucode, %ecx
    shr $12, %ecx
    mov $ucode_end, %edx
    shr $12, %edx
3:  orl $4, pt(,%ecx,4)
    andl $~2, pt(,%ecx,4)
    inc %ecx
    cmp %edx, %ecx
    jne 3b
    pte_of ushared
    orl $4, pt(,%ecx,4)
    pte_of udata
    orl $4, pt(,%ecx,4)
    pte_of ustack
    orl $4, pt(,%ecx,4)
    pte_of scode
    orl $4, pt(,%ecx,4)
    pte_of uro
    movl $uro + 5, pt(,%ecx,4)          /* present, user, read-only */
    mov $pd, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80000000, %eax                 /* PG, WP still 0 */
    mov %eax, %cr0
    jmp 4f
4:
    /* ring 0 touches what ring 3 will try */
    call kfunc
    cmp $0x55, %eax
    jne bad
    movl $0x1234, kdata
    movl $0x4f4f, uro                   /* WP=0: ring 0 may write it */
    mov udata, %eax                     /* read only: D stays clear */
    pte_of udata
    testl $0x40, pt(,%ecx,4)
    jnz bad
    call scode
    cmp $1, %eax
    jne bad

    /* to ring 3, DS and ES user data so they survive the privilege change */
    mov $0x23, %ax
    mov %ax, %ds
    mov %ax, %es
    pushl $0x23
    pushl $ustack + 4096
    pushl $0x002
    pushl $0x1b
    pushl $ucode
    iret

kpost:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    /* W */
    mov %cr0, %eax
    or $0x10000, %eax
    mov %eax, %cr0
    mov $1f, %esi
    movl $3, uro
    jmp bad
1:  cmpl $3, got_err
    jne bad
    cmpl $uro, got_cr2
    jne bad
    cmpl $0x4f4f, uro
    jne bad
    mov $'W', %al
    call putc
    jmp pass

/* #PF: record the error code and CR2, resume at ESI */
h_pf:
    popl got_err
    push %eax
    mov %cr2, %eax
    mov %eax, got_cr2
    pop %eax
    mov %esi, (%esp)
    iret

/* int 0x80 from ring 3: EAX = service */
h_sys:
    cmp $1, %eax
    je 1f
    cmp $2, %eax
    je 2f
    cmp $3, %eax
    je 3f
    cmp $4, %eax
    je 4f
    cmp $5, %eax
    je 5f
    jmp bad
1:  mov %bl, %al                        /* putc BL */
    call putc
    iret
2:  pte_of udata                        /* D set? then clear it */
    testl $0x40, pt(,%ecx,4)
    jz bad
    andl $~0x40, pt(,%ecx,4)
    invlpg udata
    iret
3:  call scode                          /* the patched code */
    cmp $2, %eax
    jne bad
    iret
4:  iret
5:  mov $stack0_top, %esp               /* done at ring 3 */
    jmp kpost

#include "guest_lib.inc"

    .align 4096
kfunc:                                  /* a supervisor code page */
    mov $0x55, %eax
    ret

    .align 4096
ucode:
    /* U, V */
    mov $1f, %esi
    mov kdata, %eax
    uexpect 5, kdata
    uputc 'U'
    mov $1f, %esi
    movl $1, kdata
    uexpect 7, kdata
    uputc 'V'
    /* O */
    cmpl $0x4f4f, uro
    jne ubad
    mov $1f, %esi
    movl $2, uro
    uexpect 7, uro
    uputc 'O'
    /* D */
    movl $1, udata
    mov $2, %eax
    int $0x80
    movl $2, udata
    mov $2, %eax
    int $0x80
    uputc 'D'
    /* K */
    mov $1f, %esi
    call kfunc
    uexpect 5, kfunc
    mov $ustack + 4096, %esp
    uputc 'K'
    /* S */
    movl $2, scode + 1
    mov $3, %eax
    int $0x80
    uputc 'S'
    /* N */
    mov $300, %edi
5:  mov udata, %eax
    add ushared + 64, %eax
    mov %eax, ushared + 64
    push %eax
    pop %eax
    mov $4, %eax
    int $0x80
    dec %edi
    jnz 5b
    uputc 'N'
    mov $5, %eax
    int $0x80
ubad:
    mov $9, %eax
    int $0x80
    .align 4096
ucode_end:

    .data
    gdt_flat 1
    .quad 0x0000890000000067    /* 0x28 TSS, base patched */
gdt_end:
    desc_tables 256

    .align 4096
scode:                                  /* user read/write code page */
    mov $1, %eax
    ret
    .align 4096

    .bss
    .align 4096
ushared:
got_err:
    .space 4
got_cr2:
    .space 4092
udata:
    .space 4096
ustack:
    .space 4096
uro:
    .space 4096
kdata:
    .space 4096
pd:
    .space 4096
pt:
    .space 4096
idt:
    .space 256 * 8
tss:
    .space 104
    .space 4096
stack0_top:
