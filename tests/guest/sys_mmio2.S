/*
 * sys_mmio2.S - the MMIO forms beyond sys_mmio.S, from a tiny system-mode
 * guest (paging off) on the fake device of test_sys_guest.c at 0xD0000000
 * (a read returns the low byte of the address in every byte, 0xD0000ff0
 * the last write; 0xD0001000 on is unclaimed: all ones, writes dropped).
 * Reports:
 *   A  ADC and SBB with the device as destination and as source: carry in,
 *      results, CF ZF SF OF
 *   B  BT, BTS, BTR, BTC with an immediate, and with a register whose bit
 *      offset reaches the next and the previous dword
 *   C  CMPXCHG (dword and byte) equal (the register stored) and not equal
 *      (the device's value to the accumulator)
 *   S  SETcc to the device (1 and 0)
 *   P  PUSH m from the device, POP m to it (ESP back where it was)
 *   F  ADC, SBB (both directions), CMPXCHG, BTC on the device against the
 *      same instruction on RAM with the same values: results and the
 *      arithmetic flags equal (BTC: CF, the others are undefined)
 *   W  accesses crossing a page: device into unclaimed (read and write;
 *      the device sees the naturally aligned pieces: byte, word, byte),
 *      RAM at the end of the 16 MiB into unclaimed MMIO
 * then writes 0 to port 0xF4 and stops. 'X' = failure.
 */
    .code32
    .text
    .globl _start
_start:
    mov $0x90000, %esp
    mov $0xD0000000, %esi

    /* A */
    movl $0xffffffff, 0xff0(%esi)
    stc
    adcl $0, 0xff0(%esi)
    jnc bad
    jnz bad
    cmpl $0, 0xff0(%esi)
    jne bad
    stc
    sbbl $0, 0xff0(%esi)
    jnc bad
    jns bad
    cmpl $0xffffffff, 0xff0(%esi)
    jne bad
    mov $1, %eax
    stc
    adc 4(%esi), %eax
    jc bad
    cmp $0x04040406, %eax
    jne bad
    stc
    sbbb $0x7f, 0x80(%esi)
    jnz bad
    jno bad
    jc bad
    cmpl $0, 0xff0(%esi)
    jne bad
    mov $0x10, %ecx
    stc
    sbb 0x20(%esi), %ecx
    jnc bad
    cmp $0xdfdfdfef, %ecx
    jne bad
    mov $'A', %al
    call putc

    /* B */
    btl $3, 8(%esi)
    jnc bad
    btl $4, 8(%esi)
    jc bad
    movl $0x10, 0xff0(%esi)
    btsl $0, 0xff0(%esi)
    jc bad
    cmpl $0x11, 0xff0(%esi)
    jne bad
    btrl $4, 0xff0(%esi)
    jnc bad
    cmpl $0x01, 0xff0(%esi)
    jne bad
    btcw $15, 0xff0(%esi)
    jc bad
    cmpl $0x8001, 0xff0(%esi)
    jne bad
    mov $34, %ecx                   /* dword at +4 (0x04040404), bit 2 */
    btl %ecx, (%esi)
    jnc bad
    mov $35, %ecx
    btl %ecx, (%esi)
    jc bad
    mov $-30, %ecx                  /* dword at 0x0c (0x0c0c0c0c), bit 2 */
    btl %ecx, 0x10(%esi)
    jnc bad
    mov $-32, %ecx
    btl %ecx, 0x10(%esi)
    jc bad
    movl $0x3030, 0xff0(%esi)
    mov $0x20f, %ecx                /* 0xfb0 + 0x40: bit 15 of 0x3030 */
    btsw %cx, 0xfb0(%esi)
    jc bad
    cmpl $0xb030, 0xff0(%esi)
    jne bad
    mov $'B', %al
    call putc

    /* C */
    movl $5, 0xff0(%esi)
    mov $5, %eax
    mov $9, %ecx
    cmpxchg %ecx, 0xff0(%esi)
    jnz bad
    cmpl $9, 0xff0(%esi)
    jne bad
    mov $1, %eax
    cmpxchg %ecx, 0xff0(%esi)
    jz bad
    jnc bad                         /* 1 - 9 borrows */
    cmp $9, %eax
    jne bad
    mov $0x33, %al
    mov $0x5a, %cl
    cmpxchg %cl, 0x33(%esi)
    jnz bad
    cmpl $0x5a, 0xff0(%esi)
    jne bad
    mov $0x34, %al
    cmpxchg %cl, 0x33(%esi)
    jz bad
    cmp $0x33, %al
    jne bad
    mov $'C', %al
    call putc

    /* S */
    stc
    setc 0x100(%esi)
    cmpl $1, 0xff0(%esi)
    jne bad
    mov $1, %eax
    cmp $2, %eax
    setge 0x100(%esi)
    cmpl $0, 0xff0(%esi)
    jne bad
    cmp $2, %eax
    setl 0x100(%esi)
    cmpl $1, 0xff0(%esi)
    jne bad
    mov $'S', %al
    call putc

    /* P */
    mov %esp, %ebx
    pushl 8(%esi)
    pop %eax
    cmp $0x08080808, %eax
    jne bad
    pushw 0x12(%esi)
    pop %ax
    cmp $0x08081212, %eax
    jne bad
    push $0x1234
    popl 0xff0(%esi)
    cmp %ebx, %esp
    jne bad
    cmpl $0x1234, 0xff0(%esi)
    jne bad
    mov $'P', %al
    call putc

    /* F: each row of ftab: a (to the device and ramv), b, carry in */
    mov $ftab, %ebp
f_loop:
    mov (%ebp), %eax
    mov 4(%ebp), %ebx
    mov %eax, 0xff0(%esi)
    mov %eax, ramv
    bt $0, 8(%ebp)
    adc %ebx, 0xff0(%esi)
    pushf
    pop %edx
    bt $0, 8(%ebp)
    adc %ebx, ramv
    call f_same
    bt $0, 8(%ebp)
    sbb %ebx, 0xff0(%esi)
    pushf
    pop %edx
    bt $0, 8(%ebp)
    sbb %ebx, ramv
    call f_same
    mov %ebx, %ecx
    mov %ebx, %edi
    bt $0, 8(%ebp)
    sbb 0xff0(%esi), %ecx
    pushf
    pop %edx
    bt $0, 8(%ebp)
    sbb ramv, %edi
    call f_same
    cmp %ecx, %edi
    jne bad
    mov %ebx, %eax
    mov $0x5a5a5a5a, %ecx
    cmpxchg %ecx, 0xff0(%esi)
    pushf
    pop %edx
    mov %eax, fx_eax
    mov %ebx, %eax
    cmpxchg %ecx, ramv
    call f_same
    cmp %eax, fx_eax
    jne bad
    mov %ebx, %ecx
    and $31, %ecx
    btc %ecx, 0xff0(%esi)
    pushf
    pop %edx
    btc %ecx, ramv
    pushf
    xor (%esp), %edx
    pop %edi
    test $1, %edx
    jnz bad
    call f_same_value
    add $12, %ebp
    cmp $ftab_end, %ebp
    jne f_loop
    mov $'F', %al
    call putc

    /* W */
    mov 0xffe(%esi), %eax
    cmp $0xfffffefe, %eax
    jne bad
    mov 0xffd(%esi), %eax
    cmp $0xfffefefd, %eax
    jne bad
    mov $0x12345678, %ebx
    mov %ebx, 0xffe(%esi)
    cmpl $0x5678, 0xff0(%esi)
    jne bad
    movw $0xabcd, 0xfffffe
    mov 0xfffffe, %eax
    cmp $0xffffabcd, %eax
    jne bad
    movl $0x7777, 0xff0(%esi)
    movl $0x11223344, 0xffffff
    cmpb $0x44, 0xffffff
    jne bad
    cmpl $0x7777, 0xff0(%esi)
    jne bad
    mov $'W', %al
    call putc

    jmp pass

/* F: flags after the device form in EDX, the RAM form's live: equal in
 * CF PF AF ZF SF OF, and the device and ramv hold the same value */
f_same:
    pushf
    xor (%esp), %edx
    lea 4(%esp), %esp
    test $0x8d5, %edx
    jnz bad
f_same_value:
    mov 0xff0(%esi), %edx
    cmp ramv, %edx
    jne bad
    ret

#define GUEST_NO_IDT
#include "guest_lib.inc"

    .data
ramv:
    .long 0
fx_eax:
    .long 0
ftab:
    .long 0xffffffff, 0, 1
    .long 0x7fffffff, 0, 1
    .long 0x80000000, 1, 1
    .long 0, 0xffffffff, 1
    .long 0x12345678, 0x9abcdef0, 0
    .long 0x0000000f, 0x00000001, 1
    .long 0x80000000, 0x7fffffff, 0
    .long 5, 5, 1
    .long 0x00000010, 0x0000002f, 0
ftab_end:
