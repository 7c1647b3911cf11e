/*
 * sys_isolation.S - a tiny system-mode guest that tries to get out and
 * must get the exception the hardware raises instead (paging off, CPL 0;
 * started like sys_basic.S). One letter per check:
 *   Y  SYSCALL: #UD (the profiles have no SYSCALL)
 *   E  SYSENTER with IA32_SYSENTER_CS = 0: #GP(0)
 *   I  INT 0x80 beyond the IDT limit: #GP(0x80*8+2)
 *   J  far JMP to a selector beyond the GDT limit: #GP(0x30)
 *   K  far JMP to a data segment: #GP(0x10)
 *   W  WRMSR to an MSR that does not exist: #GP(0)
 *   R  MOV CR4 with a bit outside the profile (SMEP): #GP(0)
 *   H  a load from 0xFFFFFFF0 (no RAM, nothing claims it) reads all ones,
 *      a store there is dropped
 *   M  self-modifying code: a patched immediate is seen on the next call
 * then writes 0 to port 0xF4 and stops. 'X' = failure.
 */
    .code32
    .text
    .globl _start
#include "guest_start.inc"

    .macro expect vec, err, letter
    cmpl $\vec, got_vec
    jne bad
    cmpl $\err, got_err
    jne bad
    movl $-1, got_vec
    mov $\letter, %al
    call putc
    .endm

_start:
    flat_start stack_top
    idt_fill_bad 32
    mov $6, %ecx
    mov $h_ud, %eax
    call set_gate
    mov $13, %ecx
    mov $h_gp, %eax
    call set_gate
    lidt idt_desc

    movl $1f, resume
    syscall
    jmp bad
1:  expect 6, 0, 'Y'

    movl $1f, resume
    sysenter
    jmp bad
1:  expect 13, 0, 'E'

    movl $1f, resume
    int $0x80
    jmp bad
1:  expect 13, 0x402, 'I'

    movl $1f, resume
    ljmp $0x33, $0
    jmp bad
1:  expect 13, 0x30, 'J'

    movl $1f, resume
    ljmp $0x10, $0
    jmp bad
1:  expect 13, 0x10, 'K'

    movl $1f, resume
    mov $0x12345, %ecx
    xor %eax, %eax
    xor %edx, %edx
    wrmsr
    jmp bad
1:  expect 13, 0, 'W'

    movl $1f, resume
    mov %cr4, %eax
    or $0x100000, %eax
    mov %eax, %cr4
    jmp bad
1:  expect 13, 0, 'R'

    movl $0, 0xFFFFFFF0
    mov 0xFFFFFFF0, %eax
    cmp $0xffffffff, %eax
    jne bad
    mov $'H', %al
    call putc

    call tramp
    cmp $1, %eax
    jne bad
    movl $2, tramp + 1          /* patch the mov's immediate */
    call tramp
    cmp $2, %eax
    jne bad
    mov $'M', %al
    call putc

    jmp pass

h_ud:
    movl $6, got_vec
    movl $0, got_err
    push %eax
    mov resume, %eax
    mov %eax, 4(%esp)
    pop %eax
    iret

h_gp:
    movl $13, got_vec
    popl got_err
    push %eax
    mov resume, %eax
    mov %eax, 4(%esp)
    pop %eax
    iret

#include "guest_lib.inc"

    .data
tramp:
    mov $1, %eax
    ret
    gdt_flat
gdt_end:
    desc_tables 32
resume:
    .long 0
got_vec:
    .long -1
got_err:
    .long -1
    .bss
    .align 8
idt:
    .space 32 * 8
    .space 4096
stack_top:
