/*
 * seg.h - protected-mode segmentation for system mode: descriptor fetch
 * and parse, segment register loads with the SDM's checks, far JMP/CALL/
 * RET to code segments, SYSENTER/SYSEXIT, LAR/LSL/VERR/VERW, and the stack
 * pushes and pops that far transfers and interrupt delivery share.
 *
 * Every call that can fail returns 0 or -1 with *f (the guest exception,
 * selector error codes as in SDM 3A 6.13) and leaves the state unchanged
 * when it fails.
 *
 * Checked: null selectors, table limits (GDT/LDT), descriptor types, DPL/
 * RPL/CPL rules, present bits, the target offset against the CS limit on
 * far JMP/CALL. Not checked (Linux runs with flat segments; the shadow
 * view enforces only the 4 GiB linear space): data and stack segment
 * limits on ordinary accesses and on the pushes done here, expand-down
 * segments. Not implemented (they raise #GP(selector)): 16-bit TSSs (286
 * tasks), virtual-8086 tasks. Far JMP/CALL through call gates: yes.
 *
 * Task switches (SDM 3A 7.3) to a 32-bit TSS: far JMP/CALL to a TSS
 * descriptor or task gate (here), a task gate in the IDT (intr.c), IRET
 * with NT=1 (intr.c). Not modelled: the TSS's T (debug trap) bit, the I/O
 * bitmap, segment limits of the new task's data segments beyond their
 * descriptors' checks.
 */
#ifndef VMP_CPU_SEG_H
#define VMP_CPU_SEG_H

#include "sys.h"

/* struct vmp_x86_seg attr bits */
#define SEG_A_TYPE  0x000fu
#define SEG_A_S     0x0010u
#define SEG_A_DPL(a) (((a) >> 5) & 3u)
#define SEG_A_P     0x0080u
#define SEG_A_DB    0x0400u
#define SEG_A_G     0x0800u
/* type bits for S=1 descriptors */
#define SEG_T_CODE  0x8u
#define SEG_T_CONF  0x4u    /* code: conforming */
#define SEG_T_W     0x2u    /* data: writable; code: readable */
#define SEG_T_A     0x1u

/* Flat 4 GiB 32-bit segments as SYSENTER/SYSEXIT load them. */
#define SEG_ATTR_CODE32(dpl) (0xc9bu | ((unsigned)(dpl) << 5))
#define SEG_ATTR_DATA32(dpl) (0xc93u | ((unsigned)(dpl) << 5))

/* Fill *out from an 8-byte descriptor (SDM 3A 3.4.5). */
void seg_from_desc(uint64_t raw, uint16_t selector, struct vmp_x86_seg *out);

/* Read the descriptor of selector from the GDT or LDT: -1 with #GP(sel)
 * for the null selector (#GP(0)) or one beyond the table's limit. */
int seg_desc_read(struct sys_ctx *c, uint16_t selector, uint64_t *raw, struct sys_fault *f);

/* MOV/POP/LxS to ES, SS, DS, FS, GS (not CS). Real mode: base = sel * 16. */
int seg_load(struct sys_ctx *c, int sreg, uint16_t selector, struct sys_fault *f);

/* Far JMP / CALL to a code segment, through a call gate, or to a TSS or
 * task gate (a task
 * switch, seg_task_switch: f->in_new_task as there); st->eip holds the next
 * instruction (CALL pushes it, a task switch saves it). opsize_bytes: 2 or
 * 4. */
int seg_far_jmp(struct sys_ctx *c, uint16_t selector, uint32_t offset, unsigned opsize_bytes,
                struct sys_fault *f);
int seg_far_call(struct sys_ctx *c, uint16_t selector, uint32_t offset, unsigned opsize_bytes,
                 struct sys_fault *f);
/* The source of a task switch: JMP clears the old task's busy bit, CALL
 * and INT (an interrupt or exception through a task gate) nest (NT=1 and
 * the back link in the new TSS), IRET returns to the back link's task. */
enum seg_task_kind { SEG_TASK_JMP, SEG_TASK_CALL, SEG_TASK_INT, SEG_TASK_IRET };

/*
 * Switch to the task of the GDT's 32-bit TSS selector sel (SDM 3A 7.3):
 * check its descriptor (available, or busy for IRET: else #GP(sel), for
 * IRET #TS(sel); not present: #NP(sel)) and limit (#TS), save the current
 * state in the old TSS with st->eip as its EIP, set the busy bits, NT and
 * the back link, set CR0.TS, load TR, CR3 (paging on), EFLAGS, EIP, the
 * registers, the LDT and segments (#TS/#NP/#SS with the selector), and
 * push error (has_error) on the new stack. ext: the EXT bit of error
 * codes. Returns 0, or -1 with *f: f->in_new_task 0 means nothing but the
 * old TSS's saved fields changed, 1 that the switch is done and the fault
 * belongs to the new task.
 */
int seg_task_switch(struct sys_ctx *c, uint16_t sel, enum seg_task_kind kind, int has_error,
                    uint32_t error, uint32_t ext, struct sys_fault *f);

/* Far RET [imm16], to the same or an outer privilege level. */
int seg_far_ret(struct sys_ctx *c, unsigned opsize_bytes, uint16_t imm, struct sys_fault *f);

int seg_sysenter(struct sys_ctx *c, struct sys_fault *f);
int seg_sysexit(struct sys_ctx *c, struct sys_fault *f);

/* LAR/LSL: 1 (ZF=1) with *out set, or 0 (ZF=0). VERR/VERW: 1 or 0. */
int seg_lar(struct sys_ctx *c, uint16_t selector, uint32_t *out);
int seg_lsl(struct sys_ctx *c, uint16_t selector, uint32_t *out);
int seg_verr(struct sys_ctx *c, uint16_t selector);
int seg_verw(struct sys_ctx *c, uint16_t selector);

/* The stack of privilege level dpl from the 32-bit TSS (SDM 3A 7.2.1):
 * #TS(TSS or SS selector | ext) for a bad one, #SS(SS | ext) when not
 * present. */
int seg_inner_stack(struct sys_ctx *c, unsigned dpl, uint32_t ext, struct vmp_x86_seg *ss,
                    uint32_t *esp, struct sys_fault *f);

/* Stack access through segment *ss at *esp (SP only when ss is 16-bit);
 * access: MMU_USER or 0. *esp is updated only on success. */
int seg_push(struct sys_ctx *c, const struct vmp_x86_seg *ss, uint32_t *esp, uint32_t value,
             unsigned bytes, unsigned access, struct sys_fault *f);
int seg_pop(struct sys_ctx *c, const struct vmp_x86_seg *ss, uint32_t *esp, uint32_t *value,
            unsigned bytes, unsigned access, struct sys_fault *f);

/*
 * Finish a far RET or IRET once EIP and CS are popped (esp_after points
 * past them): to the same level, load CS:EIP and ESP = esp_after + imm; to
 * an outer level, also pop ESP and SS (opsize_bytes each), load them, and
 * null the data segments the outer level may not use. Nothing changes on
 * failure.
 */
int seg_return_frame(struct sys_ctx *c, uint16_t cs_sel, uint32_t eip, uint32_t esp_after,
                     unsigned opsize_bytes, uint16_t imm, struct sys_fault *f);

/* After a return to an outer level: null ES/DS/FS/GS that the new CPL may
 * not use (SDM 3A 5.8.6, RET and IRET pseudocode). */
void seg_null_invalid(struct vmp_x86_state *st);

/* The MMU access kind for the current privilege level. */
unsigned seg_access(const struct vmp_x86_state *st);

#endif
