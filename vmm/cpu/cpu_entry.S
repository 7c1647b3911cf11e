/*
 * cpu_entry.S - the trampolines between C and translated code.
 *
 * xlat_enter(rt): saves the host's callee-saved registers and FPU state on
 * the host stack / in rt, loads the guest's FPU image, flags and registers
 * (cpu_rt.h gives the register convention) and jumps to rt->entry.
 *
 * xlat_exit: reached by `jmp [r15+8]`, or from the signal handler
 * (cpu_signal.c), with the guest registers live and the exit reason
 * already in rt. It stores the guest registers before touching
 * anything, switches to the host stack, and only then reads the flags with
 * pushfq (translated code never uses the host stack). Returns from
 * xlat_enter to C.
 */
#include "cpu_rt.h"

    .text
    .globl xlat_enter
    .type xlat_enter, @function
xlat_enter:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rdi, %r15
    mov %rsp, RT_HOST_RSP(%r15)
    fxsave RT_HOST_FX(%r15)
    fxrstor RT_GUEST_FX(%r15)
    mov RT_VIEW(%r15), %r13
    mov RT_IBT(%r15), %r12
    mov RT_EFLAGS(%r15), %eax
    push %rax
    popfq
    mov RT_GPR+0(%r15), %eax
    mov RT_GPR+4(%r15), %ecx
    mov RT_GPR+8(%r15), %edx
    mov RT_GPR+12(%r15), %ebx
    mov RT_GPR+20(%r15), %ebp
    mov RT_GPR+24(%r15), %esi
    mov RT_GPR+28(%r15), %edi
    mov RT_GPR+16(%r15), %esp
    jmp *RT_ENTRY(%r15)
    .size xlat_enter, . - xlat_enter

    .globl xlat_exit
    .type xlat_exit, @function
xlat_exit:
    mov %eax, RT_GPR+0(%r15)
    mov %ecx, RT_GPR+4(%r15)
    mov %edx, RT_GPR+8(%r15)
    mov %ebx, RT_GPR+12(%r15)
    mov %esp, RT_GPR+16(%r15)
    mov %ebp, RT_GPR+20(%r15)
    mov %esi, RT_GPR+24(%r15)
    mov %edi, RT_GPR+28(%r15)
    mov RT_HOST_RSP(%r15), %rsp
    pushfq
    pop %rax
    mov %eax, RT_EFLAGS(%r15)
    cld
    fxsave RT_GUEST_FX(%r15)
    fxrstor RT_HOST_FX(%r15)
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
    .size xlat_exit, . - xlat_exit

    .section .note.GNU-stack, "", @progbits
