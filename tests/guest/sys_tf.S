/*
 * sys_tf.S - single-stepping with EFLAGS.TF in system mode (SDM 3A
 * 17.3.1.4): a #DB trap through the IDT after each instruction that began
 * with TF set, EIP past it, DR6.BS set. The #DB handler logs the return
 * EIP of each trap and DR6 (then clears DR6), and clears TF in the frame
 * when db_clear is set. Reports:
 *   P  push 0x102; popf; nop: one trap, after the nop (not after the POPF
 *      that set TF), DR6.BS
 *   S  TF on across mov, add, jmp, an MMIO load (emulated on its fault),
 *      OUT (emulated in C), push, and a POPF that clears TF: seven traps
 *      (the last after that POPF), none after it; results intact
 *   I  an IRET that sets TF: the trap comes after the first instruction
 *      at its target
 * then writes 0 to port 0xF4 and stops. 'X' = failure.
 */
    .code32
    .text
    .globl _start
#include "guest_start.inc"
_start:
    flat_start stack0_top
    idt_fill_bad 32
    mov $1, %ecx
    mov $h_db, %eax
    call set_gate
    lidt idt_desc

    /* P */
    movl $1, db_clear
    movl $0, db_count
    pushl $0x102
    popf
p_nop:
    nop
p_after:
    cmpl $1, db_count
    jne bad
    cmpl $p_after, db_log
    jne bad
    testl $0x4000, db_dr6
    jz bad
    pushf
    testl $0x100, (%esp)
    jnz bad
    popf
    mov $'P', %al
    call putc

    /* S */
    movl $0, db_clear
    movl $0, db_count
    pushl $0x102
    popf
    mov $1, %ebx
    add $2, %ebx
    jmp s_mmio
    ud2
s_mmio:
    mov 0xD0000004, %ecx
    out %al, $0x80
    pushl $0x002
    popf
s_end:
    nop
    cmpl $7, db_count
    jne bad
    cmpl $s_mmio, db_log + 2 * 4
    jne bad
    cmpl $s_end, db_log + 6 * 4
    jne bad
    cmp $3, %ebx
    jne bad
    cmp $0x04040404, %ecx
    jne bad
    mov $'S', %al
    call putc

    /* I */
    movl $1, db_clear
    movl $0, db_count
    pushl $0x102
    pushl $0x08
    pushl $i_target
    iret
i_target:
    nop
i_after:
    cmpl $1, db_count
    jne bad
    cmpl $i_after, db_log
    jne bad
    mov $'I', %al
    call putc

    jmp pass

/* #DB: log the return EIP, keep DR6, clear TF in the frame if db_clear */
h_db:
    push %eax
    push %edx
    mov db_count, %edx
    and $15, %edx
    mov 8(%esp), %eax
    mov %eax, db_log(,%edx,4)
    incl db_count
    mov %dr6, %eax
    mov %eax, db_dr6
    xor %eax, %eax
    mov %eax, %dr6
    cmpl $0, db_clear
    je 1f
    andl $~0x100, 16(%esp)
1:  pop %edx
    pop %eax
    iret

#include "guest_lib.inc"

    .data
    gdt_flat
gdt_end:
    desc_tables 256
db_clear:
    .long 0
db_count:
    .long 0
db_dr6:
    .long 0
db_log:
    .space 16 * 4
    .bss
    .align 8
idt:
    .space 256 * 8
    .space 4096
stack0_top:
