/*
 * sys_task.S - 32-bit task switches (SDM 3A 7.3) through the translator.
 * Task A (this program, TSS 0x28) runs with paging on; task B (0x30) has
 * its own page directory (linear 0x800000 shows another frame) and an FS
 * whose base is 0x2000, so has task C (0x38), reached through task gates;
 * task DF (0x40) is the #DF handler, a task gate in the IDT as Linux i386
 * has it. One letter per check:
 *   J  ljmp to B's TSS: B sees its registers, TR, NT=0, CR0.TS=1, its CR3
 *      and FS base, A's EIP saved and A's busy bit cleared; B jumps back
 *      and A goes on after its ljmp with its registers, CR3 and FS
 *   C  lcall through a task gate to C: NT=1, back link A, A still busy;
 *      C's IRET returns after the lcall and frees C; a second lcall
 *      resumes C after its IRET
 *   I  int $0x41, a task gate in the IDT: C again, nothing pushed, and
 *      code A ran with FS base 0 reads through C's FS base 0x2000
 *   D  #GP whose gate is not present -> #NP -> #DF -> the DF task, error
 *      code 0 on its stack, back link A, A's saved EIP at the faulting
 *      instruction; DF moves it past that and IRETs back
 *   E  ljmp to a TSS whose limit is below 0x67: #TS(sel); ljmp to A's own
 *      (busy) TSS: #GP(sel); both in A, at the ljmp
 * Then 0 to port 0xF4 and CLI; HLT. Anything unexpected: 'X', exit 1.
 */
    .code32
    .text
    .globl _start
#include "guest_start.inc"
_start:
    flat_start stack_a_top
    mov %ax, %fs
    mov %ax, %gs
    idt_fill_bad 256
    mov $10, %ecx
    mov $h_ts, %eax
    call set_gate
    mov $13, %ecx
    mov $h_gp, %eax
    call set_gate
    /* task gates: #DF -> 0x40, int 0x41 -> 0x38 */
    movl $0x00400000, idt + 8 * 8
    movl $0x00008500, idt + 8 * 8 + 4
    movl $0x00380000, idt + 0x41 * 8
    movl $0x00008500, idt + 0x41 * 8 + 4
    lidt idt_desc

    /* TSS descriptors and images */
    mov $tss_a, %eax
    mov $0x28, %edx
    call set_tss_desc
    mov $tss_b, %eax
    mov $0x30, %edx
    call set_tss_desc
    mov $tss_c, %eax
    mov $0x38, %edx
    call set_tss_desc
    mov $tss_df, %eax
    mov $0x40, %edx
    call set_tss_desc
    mov $tss_c, %eax                /* 0x58: limit 0x50 */
    mov $0x58, %edx
    call set_tss_desc
    mov $tss_b, %edi
    mov $task_b, %eax
    mov $stack_b_top, %ecx
    mov $pd_b, %edx
    call init_tss
    movl $0x50, tss_b + 0x58        /* FS with base 0x2000 */
    movl $0xb0b0, tss_b + 0x28      /* EAX */
    mov $tss_c, %edi
    mov $task_c, %eax
    mov $stack_c_top, %ecx
    mov $pd_a, %edx
    call init_tss
    movl $0x50, tss_c + 0x58        /* FS with base 0x2000 */
    mov $tss_df, %edi
    mov $task_df, %eax
    mov $stack_df_top, %ecx
    mov $pd_a, %edx
    call init_tss
    movl $pd_a, tss_a + 0x1c        /* CR3 when A is switched back to */
    mov $0x28, %ax
    ltr %ax

    /* paging: 0-4 MiB identity in both; 0x800000 -> 0x800000 (A), 0x801000 (B) */
    pt_identity pt0, 3
    movl $0x800003, pt_a
    movl $0x801003, pt_b
    movl $pt0 + 3, pd_a
    movl $pt_a + 3, pd_a + 8
    movl $pt0 + 3, pd_b
    movl $pt_b + 3, pd_b + 8
    movb $'A', 0x800000
    movb $'B', 0x801000
    movl $0x5a5a5a5a, 0x2000
    mov $pd_a, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80000000, %eax
    mov %eax, %cr0

    /* J */
    mov $0x1234, %ebx
    mov $0x5678, %esi
    ljmp $0x30, $0
after_jmp:
    cmpl $1, phase
    jne bad
    cmp $0x1234, %ebx
    jne bad
    cmp $0x5678, %esi
    jne bad
    str %ax
    cmp $0x28, %ax
    jne bad
    cmpb $'A', 0x800000
    jne bad
    mov %fs:0x2000, %eax
    cmp $0x5a5a5a5a, %eax
    jne bad
    cmpb $0x89, gdt + 0x30 + 5      /* B freed by its jmp back */
    jne bad
    clts
    mov $'J', %al
    call putc

    /* C */
    lcall $0x48, $0
after_call:
    cmpl $1, c_runs
    jne bad
    cmpb $0x89, gdt + 0x38 + 5
    jne bad
    cmpl $after_c_iret, tss_c + 0x20
    jne bad
    pushf
    pop %eax
    test $0x4000, %eax
    jnz bad
    lcall $0x48, $0
    cmpl $2, c_runs
    jne bad
    clts
    mov $'C', %al
    call putc

    /* I: read_fs0's code runs with A's FS (base 0) before C runs it with
     * its own: the switch by a gate must not reuse A's translation */
    movl $0x11111111, 0
    call read_fs0
    cmp $0x11111111, %eax
    jne bad
    int $0x41
    cmpl $3, c_runs
    jne bad
    mov $'I', %al
    call putc

    /* D */
    andb $0x7f, idt + 13 * 8 + 5    /* #GP's gate not present */
    movl $2, phase
    mov $0x18, %ax
df_here:
    mov %ax, %ss                    /* #GP -> #NP -> #DF */
    cmpl $3, phase
    jne bad
    mov %ss, %ax
    cmp $0x10, %ax
    jne bad
    clts
    mov $'D', %al
    call putc

    /* E */
    movl $4, phase
ts_here:
    ljmp $0x58, $0
    cmpl $5, phase
    jne bad
gp_here:
    ljmp $0x28, $0
    cmpl $6, phase
    jne bad
    str %ax
    cmp $0x28, %ax
    jne bad
    mov $'E', %al
    call putc

    jmp pass

task_b:
    cmp $0xb0b0, %eax
    jne bad
    cmp $stack_b_top, %esp
    jne bad
    str %ax
    cmp $0x30, %ax
    jne bad
    pushf
    pop %eax
    test $0x4000, %eax              /* JMP does not nest */
    jnz bad
    mov %cr0, %eax
    test $8, %eax                   /* CR0.TS */
    jz bad
    cmpb $'B', 0x800000             /* B's page directory */
    jne bad
    mov %fs:0, %eax                 /* FS base 0x2000 */
    cmp $0x5a5a5a5a, %eax
    jne bad
    cmpl $after_jmp, tss_a + 0x20
    jne bad
    cmpl $0x1234, tss_a + 0x34      /* EBX */
    jne bad
    cmpb $0x89, gdt + 0x28 + 5      /* A freed */
    jne bad
    cmpb $0x8b, gdt + 0x30 + 5
    jne bad
    movl $1, phase
    clts
    ljmp $0x28, $0

task_c:
    pushf
    pop %eax
    test $0x4000, %eax              /* nested */
    jz bad
    cmpw $0x28, tss_c               /* back link */
    jne bad
    cmpb $0x8b, gdt + 0x28 + 5      /* A stays busy */
    jne bad
    cmp $stack_c_top, %esp          /* nothing pushed */
    jne bad
    call read_fs0                   /* FS base 0x2000 */
    cmp $0x5a5a5a5a, %eax
    jne bad
    incl c_runs
    iret
after_c_iret:
    jmp task_c

task_df:
    cmpl $2, phase
    jne bad
    cmp $stack_df_top - 4, %esp
    jne bad
    cmpl $0, (%esp)                 /* #DF's error code */
    jne bad
    cmpw $0x28, tss_df
    jne bad
    cmpl $df_here, tss_a + 0x20
    jne bad
    pushf
    pop %eax
    test $0x4000, %eax
    jz bad
    addl $2, tss_a + 0x20           /* past mov %ax,%ss */
    orb $0x80, idt + 13 * 8 + 5
    movl $3, phase
    add $4, %esp
    iret
    jmp bad

h_ts:
    cmpl $4, phase
    jne bad
    cmpl $0x58, (%esp)
    jne bad
    cmpl $ts_here, 4(%esp)
    jne bad
    movl $5, phase
    add $4, %esp
    addl $7, (%esp)
    iret

h_gp:
    cmpl $5, phase
    jne bad
    cmpl $0x28, (%esp)
    jne bad
    cmpl $gp_here, 4(%esp)
    jne bad
    movl $6, phase
    add $4, %esp
    addl $7, (%esp)
    iret

read_fs0:
    mov %fs:0, %eax
    ret

/* eax = TSS address, edx = GDT offset: an available 32-bit TSS, limit 0x67
 * (0x50 for offset 0x58) */
set_tss_desc:
    movl $0x67, gdt(%edx)
    cmp $0x58, %edx
    jne 1f
    movl $0x50, gdt(%edx)
1:  mov %ax, gdt + 2(%edx)
    shr $16, %eax
    mov %al, gdt + 4(%edx)
    movb $0x89, gdt + 5(%edx)
    movb $0, gdt + 6(%edx)
    mov %ah, gdt + 7(%edx)
    ret

/* edi = TSS, eax = EIP, ecx = ESP, edx = CR3: ring 0 flat, EFLAGS 2 */
init_tss:
    push %edi
    push %eax
    push %ecx
    mov $26, %ecx
    xor %eax, %eax
    rep stosl
    pop %ecx
    pop %eax
    pop %edi
    mov %edx, 0x1c(%edi)
    mov %eax, 0x20(%edi)
    movl $2, 0x24(%edi)
    mov %ecx, 0x38(%edi)
    movl $0x10, 0x48(%edi)
    movl $0x08, 0x4c(%edi)
    movl $0x10, 0x50(%edi)
    movl $0x10, 0x54(%edi)
    movl $0x10, 0x58(%edi)
    movl $0x10, 0x5c(%edi)
    ret

#include "guest_lib.inc"

    .data
    gdt_flat 1
    .quad 0                     /* 0x28 TSS A */
    .quad 0                     /* 0x30 TSS B */
    .quad 0                     /* 0x38 TSS C */
    .quad 0                     /* 0x40 TSS DF */
    .quad 0x0000850000380000    /* 0x48 task gate -> C */
    .quad 0x00cf92002000ffff    /* 0x50 data 0, base 0x2000 */
    .quad 0                     /* 0x58 TSS, limit 0x50 */
gdt_end:
    desc_tables 256
phase:
    .long 0
c_runs:
    .long 0
    .bss
    .align 4096
pd_a:
    .space 4096
pd_b:
    .space 4096
pt0:
    .space 4096
pt_a:
    .space 4096
pt_b:
    .space 4096
idt:
    .space 256 * 8
tss_a:
    .space 104
tss_b:
    .space 104
tss_c:
    .space 104
tss_df:
    .space 104
    .space 4096
stack_a_top:
    .space 4096
stack_b_top:
    .space 4096
stack_c_top:
    .space 4096
stack_df_top:
