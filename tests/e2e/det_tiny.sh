#!/usr/bin/env bash
# Deterministic mode end to end (spec/machine.md "Deterministic mode") with
# a tiny guest kernel built here: a loop that folds into a digest what the
# instruction-count clock decides (the PIT tick count and the EIP each
# timer interrupt lands on, RDTSC, the CMOS clock's seconds), with HLT
# phases that skip the clock to the next tick, stores into 1 MiB of RAM,
# then prints the digest and powers off. It uses no console input.
#   1. two `vmpack run --deterministic` give the same printed digest, RAM
#      digest and instruction count;
#   2. the same run suspended and resumed three times at random moments
#      (`vmpack run --name`, `vmpack suspend`, `vmpack resume`) ends with
#      the same three;
#   3. one suspended container resumed twice gives the same three;
#   4. two real-time runs differ (the digest does see the host's timing:
#      the test can fail).
# Optional: DET_TINY_ROUNDS (default 3) suspend/resume cycles.
. "$(dirname "$0")/lib.sh"

ROUNDS=${DET_TINY_ROUNDS:-3}

cat > det.S <<'ASM'
    .code32
    .text
    .globl _start
_start:
    cli
    mov $0x90000, %esp
    xor %ecx, %ecx                  /* IDT at 0x80000: vector 0x20 the timer */
1:  mov $ignore, %eax
    call setgate
    inc %ecx
    cmp $256, %ecx
    jb 1b
    mov $0x20, %ecx
    mov $timer, %eax
    call setgate
    lidt idtr
    mov $pic_seq, %esi              /* 8259A: vectors 0x20/0x28, IRQ 0 only */
2:  lodsw
    test %ax, %ax
    jz 3f
    movzbl %al, %edx
    mov %ah, %al
    out %al, %dx
    jmp 2b
3:  mov $0x34, %al                  /* PIT channel 0 mode 2, ~1 kHz */
    out %al, $0x43
    mov $0xA9, %al
    out %al, $0x40
    mov $0x04, %al
    out %al, $0x40
    mov $msg_start, %esi
    call puts
    sti
    mov $0x811C9DC5, %ebx           /* the digest (FNV-1a style) */
    mov $ROUNDS_OUTER, %edi
outer:
    mov $ROUNDS_INNER, %ecx
inner:
    mov ticks, %eax
    xor %eax, %ebx
    imul $0x01000193, %ebx, %ebx
    mov %ecx, %eax
    and $0x3FFFF, %eax              /* 1 MiB of RAM at 2 MiB */
    xor %ebx, 0x200000(,%eax,4)
    add 0x200000(,%eax,4), %ebx
    rol $5, %ebx
    dec %ecx
    jnz inner
    rdtsc                           /* the clock itself */
    xor %eax, %ebx
    imul $0x01000193, %ebx, %ebx
    mov $0, %al                     /* CMOS seconds */
    out %al, $0x70
    in $0x71, %al
    movzbl %al, %eax
    add %eax, %ebx
    xor irqmix, %ebx
    hlt                             /* wait for a tick: the clock jumps */
    dec %edi
    jnz outer
    cli
    mov $msg_digest, %esi
    call puts
    mov %ebx, %eax
    call puthex32
    mov $msg_ticks, %esi
    call puts
    mov ticks, %eax
    call puthex32
    mov $msg_nl, %esi
    call puts
    mov $0x3400, %ax                /* SLP_TYP 5 | SLP_EN: ACPI S5 (spec/machine.md 4.2) */
    mov $0x604, %dx
    out %ax, %dx
9:  hlt
    jmp 9b

setgate:                            /* vector ecx -> handler eax */
    lea 0x80000(,%ecx,8), %edx
    mov %ax, (%edx)
    movw $0x10, 2(%edx)
    movw $0x8E00, 4(%edx)
    shr $16, %eax
    mov %ax, 6(%edx)
    ret
timer:                              /* fold the interrupted EIP in */
    push %eax
    incl ticks
    mov 4(%esp), %eax
    xor %eax, irqmix
    roll $7, irqmix
    mov $0x20, %al
    out %al, $0x20
    pop %eax
    iret
ignore:
    iret
.include "tiny_uart.inc"
puthex32:
    mov $8, %ecx
1:  rol $4, %eax
    push %eax
    and $0x0F, %al
    add $'0', %al
    cmp $'9', %al
    jbe 2f
    add $7, %al
2:  call putc
    pop %eax
    dec %ecx
    jnz 1b
    ret

    .data
    .align 4
ticks:  .long 0
irqmix: .long 0
idtr:   .word 0x7FF
        .long 0x80000
pic_seq:
    .byte 0x21, 0xFF, 0xA1, 0xFF, 0x20, 0x11, 0x21, 0x20, 0x21, 0x04, 0x21, 0x01
    .byte 0xA0, 0x11, 0xA1, 0x28, 0xA1, 0x02, 0xA1, 0x01, 0x21, 0xFE, 0, 0
msg_start:  .asciz "det: start\n"
msg_digest: .asciz "det: digest "
msg_ticks:  .asciz " ticks "
msg_nl:     .asciz "\n"
ASM
tiny_kernel det.S det.bzImage --defsym ROUNDS_OUTER=${DET_TINY_OUTER:-3000} \
  --defsym ROUNDS_INNER=${DET_TINY_INNER:-200000}
vmpack create -o det.vmpk --memory 32M --cpu i686 --kernel det.bzImage > /dev/null
ok "guest built"

# result FILE_PREFIX: "digest|ticks|ram|icount" from a finished run's output
result() {
  local d r i
  d=$(grep -o 'det: digest [0-9A-F]* ticks [0-9A-F]*' "$1.out" | tail -1) || true
  r=$(grep -o '^ram sha256 [0-9a-f]*' "$1.err" | tail -1) || true
  i=$(grep -o '^icount [0-9]*' "$1.err" | tail -1) || true
  [ -n "$d" ] && [ -n "$r" ] && [ -n "$i" ] || { cat "$1.out" "$1.err" >&2; fail "$1: no digest"; }
  echo "$d|$r|$i"
}

t0=$(date +%s.%N)
vmpack run --deterministic --ram-digest det.vmpk < /dev/null > a.out 2> a.err ||
  { cat a.err >&2; fail "deterministic run"; }
t1=$(date +%s.%N)
A=$(result a)
echo "  run A: $A ($(python3 -c "print(round($t1 - $t0, 2))") s)"
vmpack run --deterministic --ram-digest det.vmpk < /dev/null > b.out 2> b.err ||
  { cat b.err >&2; fail "second deterministic run"; }
B=$(result b)
[ "$A" = "$B" ] || fail "two deterministic runs differ: $A / $B"
ok "two deterministic runs: same digest, RAM and instruction count"

# Suspend and resume ROUNDS times at random moments of the run.
dur=$(python3 -c "print(round($t1 - $t0, 2))")
# somewhere in the first half of what is left of an uninterrupted run
suspend_rounds det det.vmpk "$ROUNDS" "$(python3 -c "print(0.05 * $dur)")" \
  "$(python3 -c "print($dur / (4 * $ROUNDS))")" 'det: digest'
ok "$ROUNDS suspends at random moments"
vmpack resume --ram-digest "$cur" < /dev/null > c.out 2> c.err || { cat c.err >&2; fail "final resume"; }
C=$(result c)
[ "$A" = "$C" ] || fail "suspended and resumed $ROUNDS times: $C, uninterrupted: $A"
ok "suspended and resumed $ROUNDS times: same digest, RAM and instruction count as uninterrupted"

vmpack resume --ram-digest s1.vmpk < /dev/null > d.out 2> d.err || { cat d.err >&2; fail "resume of s1"; }
vmpack resume --ram-digest s1.vmpk < /dev/null > e.out 2> e.err || { cat e.err >&2; fail "resume of s1 again"; }
D=$(result d)
E=$(result e)
[ "$D" = "$E" ] && [ "$D" = "$A" ] || fail "one container resumed twice: $D / $E (uninterrupted $A)"
ok "one suspended container resumed twice: same results, and the uninterrupted run's"

# Without --deterministic the digest sees host timing: the check above can fail.
vmpack run --ram-digest det.vmpk < /dev/null > f.out 2> f.err || { cat f.err >&2; fail "real-time run"; }
vmpack run --ram-digest det.vmpk < /dev/null > g.out 2> g.err || { cat g.err >&2; fail "real-time run"; }
F=$(result f)
G=$(result g)
[ "$F" != "$G" ] || fail "two real-time runs gave the same digest: the digest does not see timing"
ok "two real-time runs differ ($F / $G)"
echo "det_tiny: $CHECKS checks passed"
