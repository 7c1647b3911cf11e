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
    if (cpu->mode == CPU_MODE_SYSTEM)
        return cpu_sys_guest_rw(cpu, gla, dst, n, 0, ex);
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
    if (cpu->mode == CPU_MODE_SYSTEM)
        return cpu_sys_guest_rw(cpu, gla, (void *)(uintptr_t)src, n, 1, ex);
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
        if (cpu->page[a >> 12] & PP_CODE)
            view_smc(cpu, a);
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
        /* OF is undefined (SDM); the AMD host sets it as for the one 8-bit
         * add/sub of the whole adjustment, and so do we */
        {
            uint8_t adj = (uint8_t)(sub ? old_al - al : al - old_al);
            int ovf = sub ? ((old_al ^ adj) & (old_al ^ al) & 0x80) != 0
                          : (~(old_al ^ adj) & (old_al ^ al) & 0x80) != 0;
            fl = ovf ? (fl | FL_OF) : (fl & ~FL_OF);
        }
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
        fl &= ~FL_OF; /* undefined; clear on the AMD host */
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
    } else if ((sel & ~3u) == 0) {
        /* null: fine for DS/ES/FS/GS (their use faults later), not for SS */
        if (sg == VMP_SS) {
            helper_gp0(ex);
            return 1;
        }
        if (sg == VMP_FS || sg == VMP_GS) {
            s->base = 0;
            s->limit = 0;
        }
    } else if ((sel | 3u) == (cpu->state.seg[VMP_CS].selector | 3u) ||
               (sel | 3u) == (cpu->state.seg[VMP_DS].selector | 3u) ||
               (sel | 3u) == (cpu->state.seg[VMP_SS].selector | 3u) ||
               (sel | 3u) == (cpu->state.seg[VMP_ES].selector | 3u)) {
        /* one of the flat user selectors the caller set up */
        if (sg == VMP_FS || sg == VMP_GS) {
            s->base = 0;
            s->limit = 0xFFFFFFFFu;
        }
    } else {
        /* no descriptor we know of: #GP(selector) (SDM 2A MOV) */
        ex->reason = CPU_EXIT_EXCEPTION;
        ex->vector = 13;
        ex->has_error_code = 1;
        ex->error_code = sel & 0xFFFCu;
        return 1;
    }
    s->selector = sel;
    return 0;
}

/* The linear address of the ModRM memory operand (SDM 2A 2.1.5). */
static uint32_t helper_ea(const struct cpu *cpu, const struct x86_insn *in)
{
    const uint32_t *r = cpu->state.gpr;
    uint32_t ea;
    int seg = VMP_DS;
    if (in->addrsize == 4) {
        if (in->mod == 0 && in->rm == 5) {
            ea = (uint32_t)in->disp;
        } else if (in->rm == 4) {
            unsigned base = in->sib & 7, index = (in->sib >> 3) & 7, scale = in->sib >> 6;
            ea = (uint32_t)in->disp;
            if (!(in->mod == 0 && base == 5)) {
                ea += r[base];
                if (base == 4 || base == 5)
                    seg = VMP_SS;
            }
            if (index != 4)
                ea += r[index] << scale;
        } else {
            ea = r[in->rm] + (uint32_t)in->disp;
            if (in->rm == 5)
                seg = VMP_SS;
        }
    } else {
        static const int8_t base16[8] = {3, 3, 5, 5, -1, -1, 5, 3};
        static const int8_t index16[8] = {6, 7, 6, 7, 6, 7, -1, -1};
        ea = (uint32_t)in->disp;
        if (!(in->mod == 0 && in->rm == 6)) {
            if (base16[in->rm] >= 0)
                ea += r[base16[in->rm]] & 0xFFFF;
            if (index16[in->rm] >= 0)
                ea += r[index16[in->rm]] & 0xFFFF;
            if (base16[in->rm] == 5)
                seg = VMP_SS;
        }
        ea &= 0xFFFF;
    }
    if (in->seg != X86_SEG_NONE)
        seg = in->seg;
    return cpu->state.seg[seg].base + ea;
}

uint32_t cpu_helper_ea(const struct cpu *cpu, const struct x86_insn *in)
{
    return helper_ea(cpu, in);
}

static uint8_t helper_get_reg8(const uint32_t *r, unsigned reg)
{
    return reg < 4 ? (uint8_t)r[reg] : (uint8_t)(r[reg - 4] >> 8);
}

static void helper_set_reg8(uint32_t *r, unsigned reg, uint8_t v)
{
    if (reg < 4)
        r[reg] = (r[reg] & 0xFFFFFF00u) | v;
    else
        r[reg - 4] = (r[reg - 4] & 0xFFFF00FFu) | ((uint32_t)v << 8);
}

static int helper_push(struct cpu *cpu, uint32_t v, unsigned size, struct cpu_exit *ex)
{
    uint32_t esp = cpu->state.gpr[VMP_ESP] - size;
    if (cpu_guest_write(cpu, esp, &v, size, ex))
        return 1;
    cpu->state.gpr[VMP_ESP] = esp;
    return 0;
}

/* EFLAGS of a - b at the given size, computed by the host (SDM 2A CMP). */
static uint32_t helper_sub_flags(uint32_t a, uint32_t b, unsigned size)
{
    uint64_t fl;
    if (size == 1)
        __asm__("cmpb %b2, %b1\n\tpushfq\n\tpopq %0" : "=r"(fl) : "q"(a), "q"(b) : "cc");
    else if (size == 2)
        __asm__("cmpw %w2, %w1\n\tpushfq\n\tpopq %0" : "=r"(fl) : "r"(a), "r"(b) : "cc");
    else
        __asm__("cmpl %2, %1\n\tpushfq\n\tpopq %0" : "=r"(fl) : "r"(a), "r"(b) : "cc");
    return (uint32_t)fl & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF);
}

/* String instructions the translator leaves to C: 16-bit addressing or a
 * segment-overridden source with a base (SDM 2B MOVS/CMPS/STOS/LODS/SCAS,
 * REP). Registers are updated per element, so a fault midway leaves them
 * showing the progress, as on hardware. */
static int helper_string(struct cpu *cpu, const struct x86_insn *in, struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint32_t *r = s->gpr;
    uint8_t op = in->opcode;
    unsigned size = (op & 1) ? in->opsize : 1;
    uint32_t amask = in->addrsize == 2 ? 0xFFFFu : 0xFFFFFFFFu;
    int src_seg = in->seg == X86_SEG_NONE ? VMP_DS : in->seg;
    uint32_t src_base = s->seg[src_seg].base, dst_base = s->seg[VMP_ES].base;
    int32_t step = (s->eflags & 0x400) ? -(int32_t)size : (int32_t)size;
    int rep = in->rep != 0;
    uint32_t vmask = size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
    for (;;) {
        if (rep && (r[VMP_ECX] & amask) == 0)
            break;
        uint32_t si = r[VMP_ESI] & amask, di = r[VMP_EDI] & amask;
        uint32_t a = 0, b = 0;
        int uses_si = (op & ~1u) == 0xA4 || (op & ~1u) == 0xA6 || (op & ~1u) == 0xAC;
        int uses_di = (op & ~1u) != 0xAC;
        if ((uses_si && (uint64_t)si + size - 1 > amask) ||
            (uses_di && (uint64_t)di + size - 1 > amask)) {
            /* an element past the segment's limit (64 KiB or 4 GiB): #GP(0) */
            helper_gp0(ex);
            return 1;
        }
        switch (op & ~1u) {
        case 0xA4: /* MOVS */
            if (cpu_guest_read(cpu, src_base + si, &a, size, ex) ||
                cpu_guest_write(cpu, dst_base + di, &a, size, ex))
                return 1;
            break;
        case 0xA6: /* CMPS */
            if (cpu_guest_read(cpu, src_base + si, &a, size, ex) ||
                cpu_guest_read(cpu, dst_base + di, &b, size, ex))
                return 1;
            s->eflags = (s->eflags & ~0x8D5u) | helper_sub_flags(a, b, size);
            break;
        case 0xAA: /* STOS */
            a = r[VMP_EAX];
            if (cpu_guest_write(cpu, dst_base + di, &a, size, ex))
                return 1;
            break;
        case 0xAC: /* LODS */
            if (cpu_guest_read(cpu, src_base + si, &a, size, ex))
                return 1;
            r[VMP_EAX] = (r[VMP_EAX] & ~vmask) | a;
            break;
        case 0xAE: /* SCAS */
            if (cpu_guest_read(cpu, dst_base + di, &b, size, ex))
                return 1;
            s->eflags = (s->eflags & ~0x8D5u) | helper_sub_flags(r[VMP_EAX] & vmask, b, size);
            break;
        default:
            return -1;
        }
        if (op == 0xA4 || op == 0xA5 || op == 0xA6 || op == 0xA7 || op == 0xAC || op == 0xAD)
            r[VMP_ESI] = (r[VMP_ESI] & ~amask) | ((si + (uint32_t)step) & amask);
        if (!(op == 0xAC || op == 0xAD))
            r[VMP_EDI] = (r[VMP_EDI] & ~amask) | ((di + (uint32_t)step) & amask);
        if (!rep)
            break;
        r[VMP_ECX] = (r[VMP_ECX] & ~amask) | (((r[VMP_ECX] & amask) - 1) & amask);
        if ((op & ~1u) == 0xA6 || (op & ~1u) == 0xAE) {
            int zf = (s->eflags & FL_ZF) != 0;
            if ((in->rep == 0xF3 && !zf) || (in->rep == 0xF2 && zf))
                break;
        }
    }
    return 0;
}

/* The guest's instruction bytes at eip, as many as can be read (up to
 * X86_MAX_INSN_LEN). */
static size_t helper_fetch(struct cpu *cpu, uint32_t eip, uint8_t *bytes)
{
    size_t avail = 0;
    if (cpu->mode == CPU_MODE_SYSTEM)
        return cpu_sys_fetch(cpu, eip, bytes, X86_MAX_INSN_LEN);
    while (avail < X86_MAX_INSN_LEN) {
        uint8_t pp = cpu->page[(uint32_t)(eip + avail) >> 12];
        if (!(pp & PP_MAPPED) || !(pp & (PROT_READ | PROT_EXEC)))
            break;
        bytes[avail] = cpu->view[(uint32_t)(eip + avail)];
        avail++;
    }
    return avail;
}

/* FNSTENV/FNSAVE ran natively (xlat.c): the image holds the host's x87
 * instruction pointer (the host RIP of the translated x87 instruction) and
 * selectors. A 32-bit CPU stores the guest EIP of the last x87 instruction
 * and its CS, and the data pointer's selector (SDM 1 8.1.8, 8-9). The
 * host RIP is mapped back through the block tables; when it cannot be (its
 * block flushed since, or an exit to C in between: this AMD host's FXSAVE
 * and FXRSTOR drop FIP, FDP and FOP while no exception is pending) FIP is
 * 0. The 16-bit image's FIP is 0 (the host kept only 16 bits of its RIP).
 * FDS is DS's selector: which segment the last x87 operand used is not
 * kept. */
static int helper_fpu_env(struct cpu *cpu, const struct x86_insn *in, uint32_t next,
                          struct cpu_exit *ex)
{
    uint32_t gla = helper_ea(cpu, in);
    uint8_t env[28];
    int wide = in->opsize == 4;
    size_t n = wide ? 28 : 14, fip_at = wide ? 12 : 6, fcs_at = wide ? 16 : 8,
           fds_at = wide ? 24 : 12;
    if (cpu_guest_read(cpu, gla, env, n, ex))
        return 1;
    uint32_t fip = 0;
    if (wide) {
        uint32_t host_lo, eip;
        memcpy(&host_lo, env + fip_at, 4);
        uintptr_t hi = (uintptr_t)cpu->cc & ~(uintptr_t)0xFFFFFFFFu;
        uintptr_t pc = hi | host_lo;
        if (pc < (uintptr_t)cpu->cc)
            pc += (uintptr_t)1 << 32;
        if (host_lo != 0 && pc < (uintptr_t)cpu->cc + cpu->cc_used &&
            tc_find_pc(cpu, (const uint8_t *)pc, &eip, NULL))
            fip = eip;
        memcpy(env + fip_at, &fip, 4);
        /* FOP: the guest's opcode bits and ModRM, not the re-encoded
         * host ModRM (SDM 1 8.1.10) */
        uint8_t b[X86_MAX_INSN_LEN];
        struct x86_insn x87;
        if (fip && x86_decode(b, helper_fetch(cpu, fip, b), 1, &x87) == X86_DEC_OK &&
            (x87.flags & X86F_X87)) {
            uint16_t fop = (uint16_t)(((x87.opcode & 7u) << 8) | x87.modrm);
            memcpy(env + 18, &fop, 2);
        }
    } else {
        memset(env + fip_at, 0, 2);
    }
    /* no x87 instruction yet: FIP and FCS are 0; a last one without a
     * memory operand leaves FDP and FDS 0 (as this host does natively) */
    uint16_t cs = cpu->state.seg[VMP_CS].selector, ds = cpu->state.seg[VMP_DS].selector;
    uint16_t host_fcs;
    uint32_t fdp = 0;
    memcpy(&host_fcs, env + fcs_at, 2);
    memcpy(&fdp, env + fds_at - (wide ? 4 : 2), wide ? 4 : 2);
    if (fip == 0 && host_fcs == 0)
        cs = 0;
    if (fdp == 0)
        ds = 0;
    memcpy(env + fcs_at, &cs, 2);
    memcpy(env + fds_at, &ds, 2);
    if (cpu_guest_write(cpu, gla, env, n, ex))
        return 1;
    cpu->state.eip = next;
    return 0;
}

int cpu_helper_emulate(struct cpu *cpu, struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint8_t bytes[X86_MAX_INSN_LEN];
    struct x86_insn in;
    size_t avail = helper_fetch(cpu, s->eip, bytes);
    if (x86_decode(bytes, avail, 1, &in) != X86_DEC_OK) {
        cpu_set_err(cpu, "emulate: cannot decode at eip 0x%08x", s->eip);
        return -1;
    }
    uint32_t next = s->eip + in.len;
    uint32_t *r = s->gpr;
    if (cpu->rt->arg == XE_EMULATE_FPU_ENV && (in.flags & X86F_X87) && (in.flags & X86F_MEM) &&
        in.reg == 6)
        return helper_fpu_env(cpu, &in, next, ex);
    if (cpu->mode == CPU_MODE_SYSTEM) {
        int rc = cpu_sys_emulate(cpu, &in, next, ex);
        if (rc != 2)
            return rc;
    }
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
    case X86K_STRING: {
        int rc = helper_string(cpu, &in, ex);
        if (rc)
            return rc;
        break;
    }
    case X86K_XLAT: {
        uint32_t amask = in.addrsize == 2 ? 0xFFFFu : 0xFFFFFFFFu;
        int sg = in.seg == X86_SEG_NONE ? VMP_DS : in.seg;
        uint8_t v;
        uint32_t ea = (r[VMP_EBX] + (r[VMP_EAX] & 0xFF)) & amask;
        if (cpu_guest_read(cpu, s->seg[sg].base + ea, &v, 1, ex))
            return 1;
        r[VMP_EAX] = (r[VMP_EAX] & 0xFFFFFF00u) | v;
        break;
    }
    case X86K_JCXZ:
    case X86K_LOOP: {
        uint32_t cmask = in.addrsize == 2 ? 0xFFFFu : 0xFFFFFFFFu;
        int taken;
        if (in.kind == X86K_LOOP) {
            r[VMP_ECX] = (r[VMP_ECX] & ~cmask) | ((r[VMP_ECX] - 1) & cmask);
            int zf = (s->eflags & FL_ZF) != 0;
            taken = (r[VMP_ECX] & cmask) != 0 &&
                    (in.opcode == 0xE2 || (in.opcode == 0xE1 ? zf : !zf));
        } else {
            taken = (r[VMP_ECX] & cmask) == 0;
        }
        if (taken) {
            next += (uint32_t)(int32_t)(int8_t)in.imm;
            if (in.opsize == 2)
                next &= 0xFFFF;
        }
        break;
    }
    case X86K_PUSHF: {
        uint32_t v = (s->eflags & 0x00FCFFFFu) | 0x2;
        if (helper_push(cpu, v, in.opsize, ex))
            return 1;
        break;
    }
    case X86K_POPF: {
        uint32_t v = 0;
        if (cpu_guest_read(cpu, r[VMP_ESP], &v, in.opsize, ex))
            return 1;
        uint32_t keep = in.opsize == 2 ? 0xFFFF0000u : 0;
        /* CPL 3, IOPL 0: IF and IOPL do not change (SDM 2B POPF); TF
         * single-steps (cpu.c) */
        uint32_t mask = in.opsize == 2 ? 0x4DD5u : 0x244DD5u;
        s->eflags = (s->eflags & (~mask | keep)) | (v & mask) | 0x2;
        r[VMP_ESP] += in.opsize;
        break;
    }
    case X86K_LEAVE: {
        uint32_t v = 0;
        if (cpu_guest_read(cpu, r[VMP_EBP], &v, in.opsize, ex))
            return 1;
        r[VMP_ESP] = r[VMP_EBP] + in.opsize;
        r[VMP_EBP] = in.opsize == 4 ? v : (r[VMP_EBP] & 0xFFFF0000u) | v;
        break;
    }
    case X86K_ENTER: {
        /* SDM 2A ENTER: push EBP; frame = ESP; level-1 times push [EBP -= size];
         * push frame. The pushes go to img[] (the bytes below ESP) first, and
         * the reads of the old frame chain see the pushes already made, as
         * on hardware; memory is written once everything has been read. */
        unsigned size = in.opsize, level = in.imm2 & 31;
        uint32_t esp = r[VMP_ESP], ebp = r[VMP_EBP];
        enum { IMG = 4 * 33 };
        uint8_t img[IMG];
        unsigned n = 0;
        uint32_t frame = esp - size;
        memcpy(img + IMG - size, &ebp, size);
        n = size;
        for (unsigned i = 1; i < level; i++) {
            uint8_t v[4];
            uint32_t a = ebp - i * size;
            for (unsigned k = 0; k < size; k++) {
                uint32_t off = esp - (a + k);   /* bytes below ESP */
                if (off >= 1 && off <= n)
                    v[k] = img[IMG - off];
                else if (cpu_guest_read(cpu, a + k, &v[k], 1, ex))
                    return 1;
            }
            n += size;
            memcpy(img + IMG - n, v, size);
        }
        if (level > 0) {
            n += size;
            memcpy(img + IMG - n, &frame, size);
        }
        if (cpu_guest_write(cpu, esp - n, img + IMG - n, n, ex))
            return 1;
        r[VMP_EBP] = size == 4 ? frame : (r[VMP_EBP] & 0xFFFF0000u) | (frame & 0xFFFF);
        r[VMP_ESP] = esp - n - (in.imm & 0xFFFF);
        break;
    }
    case X86K_CALL_REL:
    case X86K_JMP_REL: {
        int32_t rel = in.imm_size == 1 ? (int8_t)in.imm : in.imm_size == 2 ? (int16_t)in.imm
                                                                          : (int32_t)in.imm;
        uint32_t target = next + (uint32_t)rel;
        if (in.opsize == 2)
            target &= 0xFFFF;
        if (in.kind == X86K_CALL_REL && helper_push(cpu, next, in.opsize, ex))
            return 1;
        next = target;
        break;
    }
    case X86K_JMP_IND:
    case X86K_CALL_IND: {
        /* the 16-bit operand forms (the translator inlines the 32-bit ones) */
        uint32_t target = 0;
        if (in.mod == 3)
            target = r[in.rm];
        else if (cpu_guest_read(cpu, helper_ea(cpu, &in), &target, in.opsize, ex))
            return 1;
        if (in.opsize == 2)
            target &= 0xFFFF;
        if (in.kind == X86K_CALL_IND && helper_push(cpu, next, in.opsize, ex))
            return 1;
        next = target;
        break;
    }
    case X86K_RET: {
        uint32_t v = 0;
        if (cpu_guest_read(cpu, r[VMP_ESP], &v, in.opsize, ex))
            return 1;
        r[VMP_ESP] += in.opsize + (in.imm_size ? (in.imm & 0xFFFF) : 0);
        next = v;
        break;
    }
    case X86K_LOAD_FARPTR: {
        /* LES LDS (C4 C5), LSS LFS LGS (0F B2 B4 B5): offset, then selector */
        int sg = in.map == X86_MAP_1 ? (in.opcode == 0xC4 ? VMP_ES : VMP_DS)
                 : in.opcode == 0xB2 ? VMP_SS : in.opcode == 0xB4 ? VMP_FS : VMP_GS;
        uint32_t ea = helper_ea(cpu, &in), off = 0;
        uint16_t sel;
        if (in.mod == 3) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 6;
            return 1;
        }
        if (cpu_guest_read(cpu, ea, &off, in.opsize, ex) ||
            cpu_guest_read(cpu, ea + in.opsize, &sel, 2, ex))
            return 1;
        if (helper_load_seg(cpu, sg, sel, ex))
            return 1;
        r[in.reg] = in.opsize == 4 ? off : (r[in.reg] & 0xFFFF0000u) | (off & 0xFFFF);
        break;
    }
    case X86K_BOUND: {
        /* SDM 2A BOUND: signed index against [lower, upper]; #BR is a fault */
        uint32_t ea = helper_ea(cpu, &in);
        int32_t lo, hi, idx;
        if (in.opsize == 4) {
            if (cpu_guest_read(cpu, ea, &lo, 4, ex) || cpu_guest_read(cpu, ea + 4, &hi, 4, ex))
                return 1;
            idx = (int32_t)r[in.reg];
        } else {
            int16_t l16, h16;
            if (cpu_guest_read(cpu, ea, &l16, 2, ex) || cpu_guest_read(cpu, ea + 2, &h16, 2, ex))
                return 1;
            lo = l16;
            hi = h16;
            idx = (int16_t)r[in.reg];
        }
        if (idx < lo || idx > hi) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 5;
            return 1;
        }
        break;
    }
    case X86K_COPY_MEM:
        if (in.map == X86_MAP_0F && in.opcode == 0xB0 && in.mod != 3) {
            /* CMPXCHG m8, r8 (SDM 2A): the translator's AH case */
            uint32_t ea = helper_ea(cpu, &in);
            uint8_t dst, al = (uint8_t)r[VMP_EAX];
            if (cpu_guest_read(cpu, ea, &dst, 1, ex))
                return 1;
            uint32_t fl = helper_sub_flags(al, dst, 1);
            uint8_t out = (fl & FL_ZF) ? helper_get_reg8(r, in.reg) : dst;
            if (cpu_guest_write(cpu, ea, &out, 1, ex))
                return 1;
            if (!(fl & FL_ZF))
                helper_set_reg8(r, VMP_EAX, dst);
            s->eflags = (s->eflags & ~0x8D5u) | fl;
            break;
        }
        cpu_set_err(cpu, "emulate: unexpected instruction at eip 0x%08x", s->eip);
        return -1;
    case X86K_SYSENTER:
        s->eip = next;
        ex->reason = CPU_EXIT_SYSENTER;
        return 1;
    case X86K_RDRAND: {
        /* RDRAND/RDSEED r (0F C7 /6, /7): the host's generator; CF=1 on
         * success, the other arithmetic flags cleared (SDM 2B RDRAND) */
        uint32_t v = 0;
        uint8_t ok;
        if (in.mod != 3) {
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 6;
            return 1;
        }
        if (in.reg == 7)
            __asm__ volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok)::"cc");
        else
            __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok)::"cc");
        if (in.opsize == 2)
            r[in.rm] = (r[in.rm] & 0xFFFF0000u) | (v & 0xFFFF);
        else
            r[in.rm] = v;
        s->eflags = (s->eflags & ~0x8D5u) | (ok ? FL_CF : 0);
        break;
    }
    case X86K_LAR:
    case X86K_LSL:
        /* user mode has no descriptor tables to show: ZF=0, "not
         * accessible", destination unchanged (SDM 2A LAR/LSL) */
        s->eflags &= ~FL_ZF;
        break;
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
        } else if (cpu_guest_write(cpu, helper_ea(cpu, &in), &sel, 2, ex)) {
            return 1;
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
        if (in.mod == 3)
            sel = (uint16_t)r[in.rm];
        else if (cpu_guest_read(cpu, helper_ea(cpu, &in), &sel, 2, ex))
            return 1;
        if (helper_load_seg(cpu, in.reg, sel, ex))
            return 1;
        break;
    }
    case X86K_HLT: case X86K_CLI: case X86K_STI: case X86K_IN: case X86K_OUT:
    case X86K_INS: case X86K_OUTS: case X86K_MOV_CR: case X86K_MOV_DR: case X86K_CLTS:
    case X86K_INVD: case X86K_WBINVD: case X86K_INVLPG: case X86K_RDMSR: case X86K_WRMSR:
    case X86K_RDPMC: case X86K_SYS_0F00: case X86K_SYS_0F01: case X86K_SYSEXIT:
    case X86K_SYSRET: case X86K_IRET:
    case X86K_JMP_FAR: case X86K_CALL_FAR: case X86K_RET_FAR:
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
