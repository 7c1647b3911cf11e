/*
 * cpu_helpers.c - instructions the translator hands to C (XE_EMULATE):
 * sensitive ones (CPUID answers from the profile, RDTSC, SYSENTER, the
 * privileged set that faults at CPL 3), and those that do not exist in
 * 64-bit mode (PUSHA/POPA, push/pop of segment registers, BCD adjust,
 * SALC, BOUND, ARPL). They are rare in compiled code; a round trip through
 * C costs about as much as a cache miss.
 *
 * User mode: CPL 3, IOPL 0, flat segments; a segment load changes only the
 * selector (the caller, which emulates set_thread_area, owns the bases in
 * cpu_state()->seg[]). SGDT/SIDT/SLDT/SMSW/STR fault as with CR4.UMIP.
 */
#include <string.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include "cpu_int.h"
#include "decode.h"

#define FL_CF 0x1u
#define FL_PF 0x4u
#define FL_AF 0x10u
#define FL_ZF 0x40u
#define FL_SF 0x80u
#define FL_OF 0x800u

int cpu_guest_read(struct cpu *cpu, uint32_t gla, void *dst, size_t n, struct cpu_exit *ex)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t a = gla + (uint32_t)i;
        uint8_t pp = cpu->page[a >> 12];
        if (!(pp & PP_MAPPED) || !(pp & (PROT_READ | PROT_WRITE | PROT_EXEC))) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 14;
            ex->has_error_code = 1;
            ex->error_code = 4u | ((pp & PP_MAPPED) ? 1u : 0u);
            ex->fault_gla = a;
            cpu->state.cr2 = a;
            return 1;
        }
        ((uint8_t *)dst)[i] = cpu->view[a];
    }
    return 0;
}

int cpu_guest_write(struct cpu *cpu, uint32_t gla, const void *src, size_t n, struct cpu_exit *ex)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t a = gla + (uint32_t)i;
        uint8_t pp = cpu->page[a >> 12];
        if (!(pp & PP_MAPPED) || !(pp & PROT_WRITE)) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 14;
            ex->has_error_code = 1;
            ex->error_code = 6u | ((pp & PP_MAPPED) ? 1u : 0u);
            ex->fault_gla = a;
            cpu->state.cr2 = a;
            return 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t a = gla + (uint32_t)i;
        if (cpu->page[a >> 12] & PP_CODE) {
            cpu->page[a >> 12] &= (uint8_t)~PP_CODE;
            mprotect(cpu->view + ((uint64_t)(a >> 12) << 12), CPU_PAGE_SIZE,
                     PROT_READ | PROT_WRITE);
            tc_flush(cpu);
            cpu->stats.smc_invalidations++;
        }
        cpu->view[a] = ((const uint8_t *)src)[i];
    }
    return 0;
}

/* CPUID from the profile (SDM 2A CPUID: a leaf above the maximum of its
 * range returns the highest basic leaf; an absent subleaf returns zeros). */
static void helper_cpuid(const struct vmp_cpu_profile *p, uint32_t leaf, uint32_t subleaf,
                         uint32_t out[4])
{
    uint32_t max_basic = 0, max_ext = 0;
    const struct vmp_cpuid_leaf *leaf_max_basic = NULL;
    memset(out, 0, 4 * sizeof out[0]);
    for (uint32_t i = 0; i < p->nleaves && i < VMP_PROFILE_MAX_LEAVES; i++) {
        if (p->leaves[i].leaf == 0)
            max_basic = p->leaves[i].eax;
        if (p->leaves[i].leaf == 0x80000000u)
            max_ext = p->leaves[i].eax;
    }
    for (uint32_t i = 0; i < p->nleaves && i < VMP_PROFILE_MAX_LEAVES; i++) {
        if (p->leaves[i].leaf == max_basic && p->leaves[i].subleaf == 0)
            leaf_max_basic = &p->leaves[i];
    }
    if ((leaf < 0x80000000u && leaf > max_basic) ||
        (leaf >= 0x80000000u && leaf > max_ext)) {
        if (leaf_max_basic) {
            out[0] = leaf_max_basic->eax;
            out[1] = leaf_max_basic->ebx;
            out[2] = leaf_max_basic->ecx;
            out[3] = leaf_max_basic->edx;
        }
        return;
    }
    const struct vmp_cpuid_leaf *any = NULL;
    for (uint32_t i = 0; i < p->nleaves && i < VMP_PROFILE_MAX_LEAVES; i++) {
        const struct vmp_cpuid_leaf *l = &p->leaves[i];
        if (l->leaf != leaf)
            continue;
        if (l->subleaf == subleaf) {
            any = l;
            break;
        }
    }
    if (!any) {
        /* leaves without subleaves are stored with subleaf 0 */
        static const uint32_t indexed[] = {4, 7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18};
        int is_indexed = 0;
        for (size_t k = 0; k < sizeof indexed / sizeof indexed[0]; k++)
            is_indexed |= leaf == indexed[k];
        if (is_indexed)
            return;
        for (uint32_t i = 0; i < p->nleaves && i < VMP_PROFILE_MAX_LEAVES; i++)
            if (p->leaves[i].leaf == leaf && p->leaves[i].subleaf == 0)
                any = &p->leaves[i];
        if (!any)
            return;
    }
    out[0] = any->eax;
    out[1] = any->ebx;
    out[2] = any->ecx;
    out[3] = any->edx;
}

static int helper_parity(uint8_t v)
{
    return !__builtin_parity(v);
}

static void helper_szp8(uint32_t *fl, uint8_t v)
{
    *fl &= ~(FL_SF | FL_ZF | FL_PF);
    if (v & 0x80)
        *fl |= FL_SF;
    if (v == 0)
        *fl |= FL_ZF;
    if (helper_parity(v))
        *fl |= FL_PF;
}

/* DAA DAS AAA AAS AAM AAD (SDM 2A, each instruction's Operation section). */
static int helper_bcd(struct cpu *cpu, const struct x86_insn *in, struct cpu_exit *ex)
{
    uint32_t *r = cpu->state.gpr;
    uint32_t fl = cpu->state.eflags;
    uint8_t al = (uint8_t)r[VMP_EAX], ah = (uint8_t)(r[VMP_EAX] >> 8);
    int cf = fl & FL_CF, af = (fl & FL_AF) != 0;
    switch (in->opcode) {
    case 0x27: /* DAA */
    case 0x2F: { /* DAS */
        uint8_t old_al = al;
        int old_cf = cf != 0, sub = in->opcode == 0x2F;
        fl &= ~(FL_CF | FL_AF);
        if ((al & 0xF) > 9 || af) {
            int carry = sub ? al < 6 : al > 0xF9;
            al = (uint8_t)(sub ? al - 6 : al + 6);
            if (old_cf || carry)
                fl |= FL_CF;
            fl |= FL_AF;
        }
        if (old_al > 0x99 || old_cf) {
            al = (uint8_t)(sub ? al - 0x60 : al + 0x60);
            fl |= FL_CF;
        }
        helper_szp8(&fl, al);
        r[VMP_EAX] = (r[VMP_EAX] & 0xFFFFFF00u) | al;
        break;
    }
    case 0x37: /* AAA */
    case 0x3F: { /* AAS */
        uint16_t ax = (uint16_t)r[VMP_EAX];
        if ((al & 0xF) > 9 || af) {
            if (in->opcode == 0x37) {
                ax = (uint16_t)(ax + 0x106);
            } else {
                ax = (uint16_t)(ax - 6);
                ax = (uint16_t)((ax & 0xFF) | (((ax >> 8) - 1) & 0xFF) << 8);
            }
            fl |= FL_AF | FL_CF;
        } else {
            fl &= ~(FL_AF | FL_CF);
        }
        ax &= 0xFF0F;
        r[VMP_EAX] = (r[VMP_EAX] & 0xFFFF0000u) | ax;
        break;
    }
    case 0xD4: { /* AAM ib */
        uint8_t base = (uint8_t)in->imm;
        if (base == 0) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 0;
            return 1;
        }
        ah = al / base;
        al = al % base;
        helper_szp8(&fl, al);
        r[VMP_EAX] = (r[VMP_EAX] & 0xFFFF0000u) | ((uint32_t)ah << 8) | al;
        break;
    }
    case 0xD5: { /* AAD ib */
        al = (uint8_t)(al + ah * (uint8_t)in->imm);
        helper_szp8(&fl, al);
        r[VMP_EAX] = (r[VMP_EAX] & 0xFFFF0000u) | al;
        break;
    }
    default:
        return -1;
    }
    cpu->state.eflags = fl;
    return 0;
}

static void helper_gp0(struct cpu_exit *ex)
{
    ex->reason = CPU_EXIT_EXCEPTION;
    ex->vector = 13;
    ex->has_error_code = 1;
    ex->error_code = 0;
}

/* User mode segment load: a GDT selector naming a TLS entry takes its
 * descriptor; an entry that is not present faults #GP(selector); the null
 * selector and other selectors are flat (Linux's user CS/DS are flat). */
static int helper_load_seg(struct cpu *cpu, int sg, uint16_t sel, struct cpu_exit *ex)
{
    struct vmp_x86_seg *s = &cpu->state.seg[sg];
    unsigned idx = sel >> 3;
    if (!(sel & 4) && idx < sizeof cpu->tls / sizeof cpu->tls[0] && cpu->tls[idx].selector) {
        const struct vmp_x86_seg *d = &cpu->tls[idx];
        if (!(d->attr & 0x80)) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 13;
            ex->has_error_code = 1;
            ex->error_code = sel & 0xFFFCu;
            return 1;
        }
        s->base = d->base;
        s->limit = d->limit;
        s->attr = d->attr;
    } else if (sg == VMP_FS || sg == VMP_GS) {
        s->base = 0;
        s->limit = 0xFFFFFFFFu;
    }
    s->selector = sel;
    return 0;
}

static int helper_push(struct cpu *cpu, uint32_t v, unsigned size, struct cpu_exit *ex)
{
    uint32_t esp = cpu->state.gpr[VMP_ESP] - size;
    if (cpu_guest_write(cpu, esp, &v, size, ex))
        return 1;
    cpu->state.gpr[VMP_ESP] = esp;
    return 0;
}

int cpu_helper_emulate(struct cpu *cpu, struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint8_t bytes[X86_MAX_INSN_LEN];
    struct x86_insn in;
    size_t avail = 0;
    while (avail < sizeof bytes) {
        uint8_t pp = cpu->page[(uint32_t)(s->eip + avail) >> 12];
        if (!(pp & PP_MAPPED) || !(pp & (PROT_READ | PROT_EXEC)))
            break;
        bytes[avail] = cpu->view[(uint32_t)(s->eip + avail)];
        avail++;
    }
    if (x86_decode(bytes, avail, 1, &in) != X86_DEC_OK) {
        cpu_set_err(cpu, "emulate: cannot decode at eip 0x%08x", s->eip);
        return -1;
    }
    uint32_t next = s->eip + in.len;
    uint32_t *r = s->gpr;
    switch (in.kind) {
    case X86K_CPUID: {
        uint32_t out[4];
        helper_cpuid(&cpu->profile, r[VMP_EAX], r[VMP_ECX], out);
        r[VMP_EAX] = out[0];
        r[VMP_EBX] = out[1];
        r[VMP_ECX] = out[2];
        r[VMP_EDX] = out[3];
        break;
    }
    case X86K_RDTSC:
    case X86K_RDTSCP: {
        uint64_t t = __rdtsc();
        r[VMP_EAX] = (uint32_t)t;
        r[VMP_EDX] = (uint32_t)(t >> 32);
        if (in.kind == X86K_RDTSCP)
            r[VMP_ECX] = 0;
        break;
    }
    case X86K_SYSENTER:
        s->eip = next;
        ex->reason = CPU_EXIT_SYSENTER;
        return 1;
    case X86K_SYSCALL:
        ex->reason = CPU_EXIT_EXCEPTION;
        ex->vector = 6;
        return 1;
    case X86K_BCD:
        if (helper_bcd(cpu, &in, ex))
            return 1;
        break;
    case X86K_SALC:
        r[VMP_EAX] = (r[VMP_EAX] & 0xFFFFFF00u) | ((s->eflags & FL_CF) ? 0xFF : 0);
        break;
    case X86K_PUSHA: {
        unsigned size = in.opsize;
        uint32_t vals[8];
        memcpy(vals, r, sizeof vals);
        uint8_t buf[32];
        for (int i = 0; i < 8; i++)
            memcpy(buf + (7 - i) * size, &vals[i], size);
        uint32_t esp = r[VMP_ESP] - 8 * size;
        if (cpu_guest_write(cpu, esp, buf, 8 * size, ex))
            return 1;
        r[VMP_ESP] = esp;
        break;
    }
    case X86K_POPA: {
        unsigned size = in.opsize;
        uint8_t buf[32];
        if (cpu_guest_read(cpu, r[VMP_ESP], buf, 8 * size, ex))
            return 1;
        for (int i = 0; i < 8; i++) {
            if (i == VMP_ESP)
                continue;
            uint32_t v = 0;
            memcpy(&v, buf + (7 - i) * size, size);
            r[i] = size == 4 ? v : (r[i] & 0xFFFF0000u) | v;
        }
        r[VMP_ESP] += 8 * size;
        break;
    }
    case X86K_PUSH_SEG: {
        static const int seg_of[8] = {VMP_ES, VMP_CS, VMP_SS, VMP_DS};
        int sg = in.map == X86_MAP_1 ? seg_of[(in.opcode >> 3) & 3]
                                     : (in.opcode == 0xA0 ? VMP_FS : VMP_GS);
        if (helper_push(cpu, s->seg[sg].selector, in.opsize, ex))
            return 1;
        break;
    }
    case X86K_POP_SEG: {
        static const int seg_of[8] = {VMP_ES, VMP_CS, VMP_SS, VMP_DS};
        int sg = in.map == X86_MAP_1 ? seg_of[(in.opcode >> 3) & 3]
                                     : (in.opcode == 0xA1 ? VMP_FS : VMP_GS);
        uint32_t v = 0;
        if (cpu_guest_read(cpu, r[VMP_ESP], &v, in.opsize, ex))
            return 1;
        if (helper_load_seg(cpu, sg, (uint16_t)v, ex))
            return 1;
        r[VMP_ESP] += in.opsize;
        break;
    }
    case X86K_MOV_FROM_SEG: {
        if (in.reg >= VMP_NSEG) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 6;
            return 1;
        }
        uint16_t sel = s->seg[in.reg].selector;
        if (in.mod == 3) {
            if (in.opsize == 4)
                r[in.rm] = sel;
            else
                r[in.rm] = (r[in.rm] & 0xFFFF0000u) | sel;
        } else {
            cpu_set_err(cpu, "emulate: mov m16, sreg at eip 0x%08x not supported", s->eip);
            return -1;
        }
        break;
    }
    case X86K_MOV_TO_SEG: {
        if (in.reg >= VMP_NSEG || in.reg == VMP_CS) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 6;
            return 1;
        }
        uint16_t sel;
        if (in.mod == 3) {
            sel = (uint16_t)r[in.rm];
        } else {
            cpu_set_err(cpu, "emulate: mov sreg, m16 at eip 0x%08x not supported", s->eip);
            return -1;
        }
        if (helper_load_seg(cpu, in.reg, sel, ex))
            return 1;
        break;
    }
    case X86K_HLT: case X86K_CLI: case X86K_STI: case X86K_IN: case X86K_OUT:
    case X86K_INS: case X86K_OUTS: case X86K_MOV_CR: case X86K_MOV_DR: case X86K_CLTS:
    case X86K_INVD: case X86K_WBINVD: case X86K_INVLPG: case X86K_RDMSR: case X86K_WRMSR:
    case X86K_RDPMC: case X86K_SYS_0F00: case X86K_SYS_0F01: case X86K_SYSEXIT:
    case X86K_SYSRET: case X86K_LAR: case X86K_LSL: case X86K_IRET:
    case X86K_JMP_FAR: case X86K_CALL_FAR: case X86K_RET_FAR: case X86K_LOAD_FARPTR:
        helper_gp0(ex);
        return 1;
    default:
        cpu_set_err(cpu, "emulate: %s at eip 0x%08x not supported", x86_kind_name(in.kind),
                    s->eip);
        return -1;
    }
    s->eip = next;
    return 0;
}
