/*
 * sys_mmio.S - MMIO accesses from a tiny system-mode guest (paging off):
 * loads and stores outside RAM at 0xD0000000 (the first virtio-mmio
 * window of spec/machine.md) in the forms readb/w/l and writeb/w/l take.
 * The fake board of test_sys_guest.c answers a read of gpa with the low
 * byte of gpa in every byte, and keeps the last write. Reports:
 *   L  mov eax, [mmio] (32-bit load)
 *   Z  movzx ecx, byte [mmio+5]; movzx edx, word [mmio+6]
 *   S  mov [mmio+0x10], ebx; mov word [mmio+0x20], imm16 (the board
 *      echoes the last write back on a read of 0xD0000ff0)
 *   U  a read of an unclaimed address (0xD0100000) is all ones
 *   R  movsx; or, and, add, sub with the device as destination (read, then
 *      write) and as source, cmp and test: results and flags (five writes)
 *   M  inc (CF kept, OF), dec, not, neg (CF), xchg (six writes)
 *   T  rep stosl and movsl to the device, rep movsb, lodsw and scasb from
 *      it (four writes)
 * then writes 0 to port 0xF4 and stops. 'X' = failure.
 */
    .code32
    .text
    .globl _start
_start:
    mov $0x90000, %esp
    mov $0xD0000000, %esi
    mov (%esi), %eax
    cmp $0x00000000, %eax
    jne bad
    mov 4(%esi), %eax
    cmp $0x04040404, %eax
    jne bad
    mov $'L', %al
    call putc

    mov $-1, %ecx
    movzbl 5(%esi), %ecx
    cmp $0x05, %ecx
    jne bad
    movzwl 6(%esi), %edx
    cmp $0x0606, %edx
    jne bad
    mov $'Z', %al
    call putc

    mov $0xcafef00d, %ebx
    mov %ebx, 0x10(%esi)
    mov 0xff0(%esi), %eax
    cmp $0xcafef00d, %eax
    jne bad
    movw $0xbeef, 0x20(%esi)
    mov 0xff0(%esi), %eax
    cmp $0x0000beef, %eax
    jne bad
    mov $'S', %al
    call putc

    mov 0xD0100000, %eax
    cmp $0xffffffff, %eax
    jne bad
    mov $'U', %al
    call putc

    /* R */
    movsbl 0x80(%esi), %eax
    cmp $0xffffff80, %eax
    jne bad
    movswl 0x7e(%esi), %eax
    cmp $0x7e7e, %eax
    jne bad
    movl $0x11, 0xff0(%esi)
    orl $0x100, 0xff0(%esi)
    jz bad
    cmpl $0x111, 0xff0(%esi)
    jne bad
    andb $0x0f, 0xff0(%esi)
    cmpl $0x01, 0xff0(%esi)
    jne bad
    testb $0x80, 0x80(%esi)
    jz bad
    jns bad
    mov $-1, %ebx
    addl %ebx, 0xff0(%esi)
    jnc bad
    jnz bad
    subl $-1, 0xff0(%esi)
    jnc bad
    cmpl $1, 0xff0(%esi)
    jne bad
    mov $0x04040404, %edx
    xor 4(%esi), %edx
    jnz bad
    mov $0x10, %ecx
    sub 0xff0(%esi), %ecx
    cmp $0x0f, %ecx
    jne bad
    mov $'R', %al
    call putc

    /* M: inc, dec, not, neg, xchg on the device */
    movl $0x7fffffff, 0xff0(%esi)
    stc
    incl 0xff0(%esi)
    jnc bad                         /* CF kept */
    jno bad
    cmpl $0x80000000, 0xff0(%esi)
    jne bad
    decw 0xff0(%esi)
    cmpl $0xffff, 0xff0(%esi)
    jne bad
    notl 0xff0(%esi)
    cmpl $0xffff0000, 0xff0(%esi)
    jne bad
    negl 0xff0(%esi)
    jnc bad
    cmpl $0x00010000, 0xff0(%esi)
    jne bad
    mov $0x55, %ecx
    xchg %ecx, 0xff0(%esi)
    cmp $0x00010000, %ecx
    jne bad
    cmpl $0x55, 0xff0(%esi)
    jne bad
    mov $'M', %al
    call putc

    /* T: string instructions with the device on one side */
    cld
    mov $0xD0000100, %edi
    mov $3, %ecx
    mov $0x4242, %eax
    rep stosl
    test %ecx, %ecx
    jnz bad
    cmp $0xD000010c, %edi
    jne bad
    cmpl $0x4242, 0xff0(%esi)
    jne bad
    push %esi
    mov $0xD0000040, %esi
    mov $buf, %edi
    mov $4, %ecx
    rep movsb
    cmpl $0x43424140, buf
    jne bad
    cmp $0xD0000044, %esi
    jne bad
    movl $0x600d, buf
    mov $buf, %esi
    mov $0xD0000200, %edi
    movsl
    mov $0xD0000ff0, %esi
    lodsw
    cmp $0x600d, %ax
    jne bad
    mov $0x77, %al
    mov $0xD0000077, %edi
    scasb
    jne bad
    pop %esi
    mov $'T', %al
    call putc

    jmp pass

#define GUEST_NO_IDT
#include "guest_lib.inc"

    .data
buf:
    .long 0
