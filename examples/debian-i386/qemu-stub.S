/*
 * qemu-stub.S - a 64 KiB "BIOS" for QEMU that does only what vmpack's
 * board does before the first guest instruction: load the loader's boot
 * GDT (already in RAM at 0x1000), enter flat 32-bit protected mode and jump
 * to the kernel with the registers of spec/machine.md 5. Used by
 * tests/bench/boot-qemu.sh --machine loader to run the loader's RAM image
 * (loader-dump.c) on QEMU's CPU. QEMU's CPU keeps its local APIC: on
 * microvm the 8259's output reaches the CPU only through LINT0, so the
 * guest there runs with `noapic` but not `nolapic` (virtual wire mode).
 * Built with: as --32 qemu-stub.S; objcopy -O binary -j .text
 */
    .code16
    .text
    .org 0xF000
start16:
    cli
    lgdtl %cs:gdt_pointer   /* CS base is 0xF0000: offsets are file offsets */
    movl %cr0, %eax
    orb $1, %al
    movl %eax, %cr0
    ljmpl $0x10, $(0xF0000 + start32)

    .code32
start32:
    movw $0x18, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $0x7000, %esi
    movl $0x7000, %esp
    xorl %ebp, %ebp
    xorl %edi, %edi
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    pushl $0x100000
    xorl %eax, %eax
    ret

    .p2align 3
gdt_pointer:
    .word 0x1F
    .long 0x1000

    .code16
    .org 0xFFF0
reset:
    jmp start16
    .org 0x10000
