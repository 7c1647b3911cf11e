/*
 * sys_basic.S - a tiny system-mode guest: started in flat 32-bit protected
 * mode with paging off at 0x100000 (the Linux 32-bit boot protocol's entry
 * state). It loads its own GDT, IDT and TSS and reports over the serial
 * port (0x3F8) one letter per check:
 *   U  #UD from ud2 reached the handler with the faulting EIP
 *   G  #GP(0x18) from loading SS with the DPL 3 code selector
 *   R  IRET to ring 3 switched to user code
 *   S  INT 0x80 from ring 3 came in on the TSS's ring 0 stack
 *   P  CLI at ring 3 raised #GP(0) (IOPL 0)
 *   I  an external interrupt (vector 0x20) woke the HLT
 *   T  an interrupt raised while IF=0 came right after STI's shadow
 *   A  ARPL on a register and on memory, with and without a change (ZF)
 *   Z  RDTSCP and RDTSC read one counter, ECX = 0
 *   D  DR5 reads DR7 with CR4.DE=0; DR4 is #UD with CR4.DE=1
 *   L  lcall from ring 3 through a call gate with one parameter: ring 0 on
 *      the TSS's stack with the caller's SS:ESP and the parameter; lret $4
 *      back to ring 3 drops it
 * Then it writes 0 to port 0xF4 (test done) and stops with CLI; HLT.
 * On any unexpected event it writes 'X' and exits with code 1.
 */
    .code32
    .text
    .globl _start
#include "guest_start.inc"
_start:
    flat_start stack0_top
    mov %ax, %fs
    mov %ax, %gs
    idt_fill_bad 256
    mov $6, %ecx
    mov $h_ud, %eax
    call set_gate
    mov $13, %ecx
    mov $h_gp, %eax
    call set_gate
    mov $0x20, %ecx
    mov $h_irq, %eax
    call set_gate
    syscall_gate h_sys
    lidt idt_desc
    tss_at 0x28
    mov $0x28, %ax
    ltr %ax

    /* U */
    movl $0, phase
ud_here:
    ud2
    /* G */
    movl $1, phase
    mov $0x18, %ax
gp_here:
    mov %ax, %ss
    /* R: iret to ring 3 */
    movl $2, phase
    pushl $0x23
    pushl $stack3_top
    pushl $0x002
    pushl $0x1b
    pushl $user
    iret

user:
    mov $'R', %al
    mov $0x3f8, %dx
    /* ring 3 may not do port I/O either: use int 0x80 to print */
    int $0x80
    cli                     /* #GP(0): h_gp prints P and returns to ring 0 */
    jmp bad

back0:
    /* I: sti; hlt; the harness raises vector 0x20 */
    movl $4, phase
    sti
    hlt
    cli
    cmpl $5, phase
    jne bad
    /* T: an IRQ raised while IF=0 is taken after the one instruction
     * that follows STI (port 0xF5: the fake board raises vector AL) */
    movl $6, phase
    mov $0x20, %al
    out %al, $0xf5
    sti
    nop
after_sti:
    cli
    cmpl $7, phase
    jne bad
    mov $'T', %al
    call putc
    /* A: ARPL raises a selector's RPL (ZF=1) or leaves it (ZF=0) */
    mov $0x12340010, %eax
    mov $0x0003, %ecx
    arpl %cx, %ax
    jnz bad
    cmp $0x12340013, %eax
    jne bad
    movw $0x0022, phase
    arpl %cx, phase
    jnz bad
    cmpw $0x0023, phase
    jne bad
    mov $1, %ecx
    arpl %cx, phase
    jz bad
    cmpw $0x0023, phase
    jne bad
    mov $'A', %al
    call putc
    /* Z: RDTSCP reads the TSC RDTSC reads (the board's clock: microseconds
     * since the start here, not the host's counter), ECX = TSC_AUX = 0 */
    rdtsc
    mov %eax, %ebx
    mov %edx, %esi
    mov $-1, %ecx
    rdtscp
    test %ecx, %ecx
    jnz bad
    sub %ebx, %eax
    sbb %esi, %edx
    jnz bad
    cmp $1000000, %eax
    jae bad
    mov $'Z', %al
    call putc
    /* D: DR5 is DR7 while CR4.DE=0; with CR4.DE=1 it is #UD */
    mov $0x400, %eax
    mov %eax, %dr7
    mov %dr5, %ebx
    cmp $0x400, %ebx
    jne bad
    mov %cr4, %eax
    or $8, %eax
    mov %eax, %cr4
    movl $10, phase
dr_ud:
    mov %dr4, %eax
    cmpl $11, phase
    jne bad
    mov %cr4, %eax
    and $~8, %eax
    mov %eax, %cr4
    mov $'D', %al
    call putc
    /* L: lcall from ring 3 through a call gate (0x30, one parameter) */
    mov $h_gate, %eax
    mov %ax, gdt + 0x30
    movw $0x08, gdt + 0x30 + 2
    movw $0xec01, gdt + 0x30 + 4
    shr $16, %eax
    mov %ax, gdt + 0x30 + 6
    mov $0x81, %ecx
    mov $h_done, %eax
    call set_gate
    orw $0x6000, idt + 0x81 * 8 + 4
    movl $8, phase
    pushl $0x23
    pushl $stack3_top
    pushl $0x002
    pushl $0x1b
    pushl $user2
    iret
user2:
    pushl $0x77
    lcall $0x33, $0
after_lcall:
    cmp $stack3_top, %esp           /* lret $4 dropped the parameter */
    jne bad
    int $0x81
    jmp bad

h_gate:
    mov $0x10, %cx
    mov %cx, %ds
    mov %cx, %es
    cmpl $8, phase
    jne bad
    cmp $stack0_top - 20, %esp      /* the TSS's ring 0 stack */
    jne bad
    cmpl $after_lcall, (%esp)
    jne bad
    cmpl $0x1b, 4(%esp)
    jne bad
    cmpl $0x77, 8(%esp)             /* the parameter, copied */
    jne bad
    cmpl $stack3_top - 4, 12(%esp)
    jne bad
    cmpl $0x23, 16(%esp)
    jne bad
    movl $9, phase
    lret $4

h_done:
    mov $0x10, %cx
    mov %cx, %ds
    cmpl $9, phase
    jne bad
    mov $'L', %al
    call putc
    jmp pass

h_ud:
    cmpl $10, phase
    je 1f
    cmpl $0, phase
    jne bad
    cmpl $ud_here, (%esp)
    jne bad
    mov $'U', %al
    call putc
    addl $2, (%esp)
    iret
1:  cmpl $dr_ud, (%esp)
    jne bad
    movl $11, phase
    addl $3, (%esp)                 /* past mov %dr4,%eax (0f 21 e0) */
    iret

h_gp:
    mov $0x10, %cx              /* from ring 3 DS came back null */
    mov %cx, %ds
    mov %cx, %es
    cmpl $1, phase
    je 1f
    cmpl $3, phase
    je 3f
    jmp bad
1:  cmpl $0x18, (%esp)          /* error code */
    jne bad
    cmpl $gp_here, 4(%esp)
    jne bad
    mov $'G', %al
    call putc
    add $4, %esp
    addl $2, (%esp)             /* skip mov %ax,%ss (8e d0) */
    iret
3:  cmpl $0, (%esp)
    jne bad
    cmpl $0x1b, 8(%esp)         /* CS of the ring 3 code */
    jne bad
    mov $'P', %al
    call putc
    mov $stack0_top, %esp
    jmp back0

h_sys:
    mov $0x10, %cx
    mov %cx, %ds
    mov %cx, %es
    cmpl $2, phase
    jne bad
    cmpl $0x1b, 4(%esp)
    jne bad
    cmpl $0x23, 16(%esp)
    jne bad
    mov %esp, %ebx
    cmp $stack0_top - 20, %ebx
    jne bad
    call putc                   /* R from user's al */
    mov $'S', %al
    call putc
    movl $3, phase
    iret

h_irq:
    cmpl $6, phase
    jne 1f
    cmpl $after_sti, (%esp)     /* taken after the nop, before cli */
    jne bad
    movl $7, phase
    iret
1:  cmpl $4, phase
    jne bad
    mov $'I', %al
    call putc
    movl $5, phase
    iret

#include "guest_lib.inc"

    .data
    gdt_flat 1
    .quad 0x0000890000000067    /* 0x28 TSS, base patched */
    .quad 0                     /* 0x30 call gate, patched */
gdt_end:
    desc_tables 256
phase:
    .long 0
    .bss
    .align 8
idt:
    .space 256 * 8
tss:
    .space 104
    .space 4096
stack0_top:
    .space 4096
stack3_top:
