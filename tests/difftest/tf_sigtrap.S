/*
 * tf_sigtrap.S - TF single-stepping as a Linux i386 program sees it: a
 * SIGTRAP after each instruction that began with TF set (not after the
 * POPF that sets it, also after the POPF that clears it), si_code
 * TRAP_TRACE (2), si_addr the EIP after the instruction. Run natively and
 * under x86run (CMakeLists.txt): exit 0 when the five traps came as
 * expected; 1 wrong count, 2 wrong si_code, 3 wrong first si_addr, 4 TF
 * still set after the clearing POPF.
 */
    .globl _start
    .text
_start:
    mov $174, %eax                  /* rt_sigaction(SIGTRAP, &act, 0, 8) */
    mov $5, %ebx
    mov $act, %ecx
    xor %edx, %edx
    mov $8, %esi
    int $0x80
    pushf
    orl $0x100, (%esp)
    popf
    nop
first_after:
    inc %edi
    pushf
    andl $~0x100, (%esp)
    popf
    nop
    pushf
    pop %eax
    mov $4, %ebx
    test $0x100, %eax
    jnz out
    mov $1, %ebx
    cmpl $5, count
    jne out
    mov $2, %ebx
    cmpl $0, bad_code
    jne out
    mov $3, %ebx
    cmpl $first_after, first_addr
    jne out
    xor %ebx, %ebx
out:
    mov $1, %eax                    /* exit(ebx) */
    int $0x80

/* SA_SIGINFO handler: 8(%esp) is the siginfo */
handler:
    mov 8(%esp), %eax
    cmpl $2, 8(%eax)                /* si_code */
    je 1f
    incl bad_code
1:  cmpl $0, count
    jne 2f
    mov 12(%eax), %edx              /* si_addr */
    mov %edx, first_addr
2:  incl count
    ret

restorer:
    mov $173, %eax                  /* rt_sigreturn */
    int $0x80

    .data
act:
    .long handler
    .long 0x04000004                /* SA_RESTORER | SA_SIGINFO */
    .long restorer
    .long 0, 0
count:
    .long 0
bad_code:
    .long 0
first_addr:
    .long 0
