#!/usr/bin/env bash
# vmpack run with a tiny guest "kernel" built here (a bzImage of boot
# protocol 2.06 whose protected-mode part is the assembly below, entered by
# the loader at 1 MiB in flat 32-bit mode): the board end to end without
# Linux. The guest prints over COM1, reads an unclaimed port (0xff), takes
# 10 PIT interrupts at 100 Hz while
# halted in HLT (IDT, PIC, IRQ 0 delivery, HLT wake-up), then reads stdin
# through the UART and echoes letters in upper case, until a command
# letter: q powers off through ACPI PM1_CNT (status 0), h halts with
# interrupts off (status 0, "halted"), r pulses the i8042 reset line
# (status 3); m reads the virtio-mmio windows and an empty address (MMIO
# exits, emulated by the CPU and answered by the board).
. "$(dirname "$0")/lib.sh"

cat > tiny.S <<'ASM'
    .code32
    .text
    .globl _start
_start:
    cli
    mov $0x90000, %esp
    mov $msg_boot, %esi
    call puts
    mov $msg_port, %esi             /* an unclaimed port reads as all ones */
    call puts
    mov $0x2FD, %dx
    in %dx, %al
    call puthex8
    mov $msg_nl, %esi
    call puts
    xor %ecx, %ecx                  /* IDT at 0x80000: every vector ignored */
2:  mov $ignore, %eax
    call setgate
    inc %ecx
    cmp $256, %ecx
    jb 2b
    mov $0x20, %ecx
    mov $timer, %eax
    call setgate
    lidt idtr
    mov $pic_seq, %esi              /* 8259A: vectors 0x20/0x28, IRQ 0 only */
3:  lodsw
    test %ax, %ax
    jz 4f
    movzbl %al, %edx
    mov %ah, %al
    out %al, %dx
    jmp 3b
4:  mov $0x34, %al                  /* PIT channel 0 mode 2, 100 Hz */
    out %al, $0x43
    mov $0x9C, %al
    out %al, $0x40
    mov $0x2E, %al
    out %al, $0x40
    sti
5:  hlt
    cmpl $10, ticks
    jb 5b
    cli
    mov $msg_ticks, %esi
    call puts
    mov $0x07, %al                  /* UART: FIFO on; IER: received data */
    mov $0x3FA, %dx
    out %al, %dx
    mov $0x01, %al
    mov $0x3F9, %dx
    out %al, %dx
    mov $msg_ready, %esi
    call puts
6:  call getc
    cmp $'q', %al
    je poweroff
    cmp $'h', %al
    je halt
    cmp $'r', %al
    je reset
    cmp $'m', %al
    je mmio
    cmp $'a', %al
    jb 7f
    cmp $'z', %al
    ja 7f
    sub $0x20, %al
7:  call putc
    jmp 6b
mmio:
    mov 0xD0000000, %eax            /* virtio-mmio slot 0: "virt" */
    cmp $0x74726976, %eax
    jne 6b
    mov 0xD0000008, %eax            /* device id 2: block */
    cmp $2, %eax
    jne 6b
    mov 0xD0000200, %eax            /* slot 1: virtio-net */
    cmp $0x74726976, %eax
    jne 6b
    mov 0xC0000000, %eax            /* nothing: all ones */
    cmp $0xFFFFFFFF, %eax
    jne 6b
    mov $msg_magic, %esi
    call puts
    jmp 6b
poweroff:
    mov $msg_off, %esi
    call puts
    mov $0x3400, %ax                /* SLP_TYP 5 | SLP_EN */
    mov $0x604, %dx
    out %ax, %dx
    mov $msg_fail, %esi
    call puts
8:  hlt
    jmp 8b
halt:
    mov $msg_halt, %esi
    call puts
    cli
    hlt
    jmp halt
reset:
    mov $0xFE, %al
    out %al, $0x64
    mov $msg_fail, %esi
    call puts
9:  hlt
    jmp 9b

setgate:                            /* vector ecx -> handler eax */
    lea 0x80000(,%ecx,8), %edi
    mov %eax, %edx
    and $0xFFFF, %edx
    or $0x00100000, %edx            /* selector 0x10 */
    mov %edx, (%edi)
    and $0xFFFF0000, %eax
    or $0x8E00, %eax                /* present, DPL 0, 32-bit interrupt gate */
    mov %eax, 4(%edi)
    ret
timer:
    push %eax
    incl ticks
    mov $0x20, %al
    out %al, $0x20
    pop %eax
    iret
ignore:
    iret
.include "tiny_uart.inc"
getc:
    mov $0x3FD, %dx
1:  in %dx, %al
    test $0x01, %al
    jz 1b
    mov $0x3F8, %dx
    in %dx, %al
    ret
puthex8:
    push %eax
    shr $4, %al
    call 1f
    pop %eax
1:  and $0x0F, %al
    add $'0', %al
    cmp $'9', %al
    jbe 2f
    add $7, %al
2:  jmp putc

    .data
    .align 4
ticks:  .long 0
idtr:   .word 0x7FF
        .long 0x80000
pic_seq:
    .byte 0x21, 0xFF, 0xA1, 0xFF, 0x20, 0x11, 0x21, 0x20, 0x21, 0x04, 0x21, 0x01
    .byte 0xA0, 0x11, 0xA1, 0x28, 0xA1, 0x02, 0xA1, 0x01, 0x21, 0xFE, 0, 0
msg_boot:  .asciz "tiny: boot\n"
msg_port:  .asciz "tiny: port 0x2fd reads 0x"
msg_nl:    .asciz "\n"
msg_magic: .asciz "tiny: mmio ok\n"
msg_ticks: .asciz "tiny: 10 ticks\n"
msg_ready: .asciz "tiny: ready\n"
msg_off:   .asciz "\ntiny: power off\n"
msg_halt:  .asciz "\ntiny: halt\n"
msg_fail:  .asciz "tiny: still running\n"
ASM
tiny_kernel tiny.S tiny.bzImage
make_disk d.raw $((1 << 20)) mixed
vmpack create -o tiny.vmpk --memory 32M --cpu i686 --kernel tiny.bzImage --disk d.raw > /dev/null
ok "tiny guest built"

# run_tiny INPUT WANT_RC: runs the guest with INPUT on stdin
run_tiny() {
    local rc=0
    printf '%s' "$1" | timeout 60 "$VMPACK" run tiny.vmpk > out.txt 2> err.txt || rc=$?
    if [ "$rc" -ne "$2" ]; then
        cat out.txt err.txt >&2
        fail "the tiny guest with input '$1' ended with $rc, expected $2"
    fi
}

run_tiny 'abc xyz
q' 0
for want in 'tiny: boot' 'tiny: port 0x2fd reads 0xFF' 'tiny: 10 ticks' 'ABC XYZ' 'tiny: power off'; do
    grep -q "$want" out.txt || { cat out.txt err.txt >&2; fail "no '$want' in the console output"; }
done
grep -q 'still running' out.txt && fail "the guest ran on after power off"
ok "boot, unclaimed port 0xff, 10 timer interrupts in HLT, piped input, ACPI power off -> 0"

run_tiny 'mq' 0
grep -q 'tiny: mmio ok' out.txt || { cat out.txt err.txt >&2; fail "MMIO reads"; }
ok "MMIO: virtio-mmio magic and device ids in slots 0 and 1, all ones where nothing is"

run_tiny 'h' 0
grep -q 'halted with interrupts off' err.txt || { cat err.txt >&2; fail "no halted message"; }
ok "HLT with interrupts off ends the run (status 0, 'halted')"

run_tiny 'r' 3
grep -q 'asked for a reset' err.txt || { cat err.txt >&2; fail "no reset message"; }
grep -q 'still running' out.txt && fail "the guest ran on after the reset"
ok "i8042 reset ends the run with status 3"
echo "run_tiny: $CHECKS checks passed"
