# Sourced by e2e_det_create.sh and e2e_stop.sh after lib.sh:
# build_rng_guest OUT.bzImage [SPIN [FILL_MB]]: a tiny guest kernel (a bzImage of
# boot protocol 2.06 whose 32-bit code runs at 1 MiB) that drives virtio-rng
# at slot 2 (spec/machine.md 3.2, virtio 1.2 4.2.2) by polling, prints
# "rng: " and 16 random bytes in hex, "rtc: " and the CMOS century, year,
# month, day, hour, minute and second (BCD), then powers off through ACPI
# S5; with SPIN it prints "spin: looping" and loops instead, after filling
# FILL_MB MiB of RAM from 16 MiB on with xorshift32 values (incompressible:
# a suspend then takes a while to save).
build_rng_guest() {
  local out=$1 spin=${2:-} fill=${3:-}
  cat > rng.S <<'ASM'
    .code32
    .text
    .globl _start
_start:
    cli
    mov $0x90000, %esp
    mov $0xD0000400, %ebp           /* virtio-mmio slot 2: virtio-rng */
    cmpl $0x74726976, 0x00(%ebp)    /* "virt" */
    jne nodev
    cmpl $4, 0x08(%ebp)             /* device ID 4: entropy */
    jne nodev
    movl $0, 0x70(%ebp)             /* reset, ACKNOWLEDGE, DRIVER */
    movl $1, 0x70(%ebp)
    movl $3, 0x70(%ebp)
    movl $1, 0x24(%ebp)             /* VIRTIO_F_VERSION_1: feature bit 32 */
    movl $1, 0x20(%ebp)
    movl $0, 0x24(%ebp)
    movl $0, 0x20(%ebp)
    movl $0xB, 0x70(%ebp)           /* FEATURES_OK */
    movl $0, 0x30(%ebp)             /* queue 0: 8 entries */
    movl $8, 0x38(%ebp)
    movl $0x300000, 0x80(%ebp)      /* descriptors, driver and device areas */
    movl $0, 0x84(%ebp)
    movl $0x301000, 0x90(%ebp)
    movl $0, 0x94(%ebp)
    movl $0x302000, 0xA0(%ebp)
    movl $0, 0xA4(%ebp)
    movl $1, 0x44(%ebp)             /* QueueReady */
    movl $0xF, 0x70(%ebp)           /* DRIVER_OK */
    movl $0x310000, 0x300000        /* descriptor 0: 16 device-writable bytes */
    movl $0, 0x300004
    movl $16, 0x300008
    movw $2, 0x30000C
    movw $0, 0x30000E
    movw $0, 0x301004               /* avail ring[0] = 0, then idx = 1 */
    movw $1, 0x301002
    movl $0, 0x50(%ebp)             /* QueueNotify */
    mov $100000000, %ecx
1:  cmpw $1, 0x302002               /* the used ring's idx */
    je 2f
    pause
    dec %ecx
    jnz 1b
    mov $msg_timeout, %esi
    call puts
    jmp off
2:  mov $msg_rng, %esi
    call puts
    mov $0x310000, %edi
    mov $16, %edx
3:  movzbl (%edi), %eax
    call puthex8
    inc %edi
    dec %edx
    jnz 3b
    mov $msg_rtc, %esi
    call puts
    mov $rtc_regs, %edi
4:  movzbl (%edi), %eax
    cmp $0xFF, %al
    je 5f
    out %al, $0x70
    in $0x71, %al
    call puthex8
    inc %edi
    jmp 4b
5:  mov $msg_nl, %esi
    call puts
.ifdef FILL_MB
    mov $0x1000000, %edi
    mov $(FILL_MB * 0x40000), %ecx  /* dwords */
    mov $0x2545F491, %eax
7:  mov %eax, %edx                  /* xorshift32: 13, 17, 5 */
    shl $13, %edx
    xor %edx, %eax
    mov %eax, %edx
    shr $17, %edx
    xor %edx, %eax
    mov %eax, %edx
    shl $5, %edx
    xor %edx, %eax
    stosl
    dec %ecx
    jnz 7b
.endif
.ifdef SPIN
    mov $msg_spin, %esi
    call puts
6:  jmp 6b
.endif
off:
    mov $0x3400, %ax                /* SLP_TYP 5 | SLP_EN: ACPI S5 (spec/machine.md 4.2) */
    mov $0x604, %dx
    out %ax, %dx
9:  hlt
    jmp 9b
nodev:
    mov $msg_nodev, %esi
    call puts
    jmp off

.include "tiny_uart.inc"
puthex8:                            /* AL as two hex digits: high, then low */
    push %eax
    shr $4, %al
    call nib
    pop %eax
nib:
    push %eax
    and $0x0F, %al
    add $'0', %al
    cmp $'9', %al
    jbe 1f
    add $7, %al
1:  call putc
    pop %eax
    ret

    .data
rtc_regs:   .byte 0x32, 9, 8, 7, 4, 2, 0, 0xFF   /* century .. seconds */
msg_rng:    .asciz "rng: "
msg_rtc:    .asciz "\nrtc: "
msg_nl:     .asciz "\n"
msg_spin:   .asciz "spin: looping\n"
msg_nodev:  .asciz "rng: no virtio-rng at 0xD0000400\n"
msg_timeout: .asciz "rng: no answer\n"
ASM
  tiny_kernel rng.S "$out" ${spin:+--defsym SPIN=1} ${fill:+--defsym FILL_MB=$fill}
}
