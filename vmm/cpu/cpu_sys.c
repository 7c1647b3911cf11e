/*
 * cpu_sys.c - CPU_MODE_SYSTEM in the dispatcher: guest RAM in the view,
 * the system forms of the sensitive instructions (called from
 * cpu_helper_emulate), event delivery through the guest IDT (intr.c) and
 * external interrupts from the board.
 *
 * Memory: two shadow views, one per privilege (CPL 0-2 and CPL 3, view.c),
 * each filled lazily: a fault on one walks the guest page tables (mmu.c;
 * paging off: linear = physical) and maps the memfd page (a 4 MiB page at
 * once) with that privilege's rights, read-only until the guest PTE is
 * dirty. A change between CPL 3 and the others switches views, GS base and
 * block context; nothing is unmapped. A CR3 write unmaps the non-global
 * pages of both views, INVLPG one page, other paging-control changes all.
 * Blocks are keyed by linear address: after a CR3 write those of global
 * pages still mapping the same frame stay, after a CR4.PGE toggle those of
 * any page still mapping it (cpu_sys_keep_code); the rest are dropped.
 *
 * The guest runs at any CPL with flat 32-bit segments: the translator
 * takes CS as 32-bit and ES/DS/SS bases as 0 (FS/GS bases are folded in,
 * as in user mode). Accesses outside RAM are MMIO, emulated by decoding
 * the instruction (cpu_sys_mmio: moves, ALU read-modify-writes and tests,
 * BT*, SETcc, CMPXCHG, PUSH/POP of memory, string instructions; an access
 * crossing a page is split at it). Task switches (seg.c) reload CR3, TR, FS/GS and
 * CR0.TS; cpu_sys_after_task and cpu_sys_sync_view bring the blocks and
 * views along. I/O permission (IN, OUT, INS, OUTS): CPL <= IOPL, or the
 * TSS's I/O permission bit map. The TSC (RDTSC, RDTSCP) runs at 1 GHz of
 * the board's virtual clock.
 *
 * Still CPU_EXIT_INTERNAL with a message that names it: real mode (a MOV
 * to CR0 clearing PE), MMIO by forms cpu_sys_mmio does not list (SSE and
 * x87 operands, MOVNTI, far pointers, ...), code fetched from MMIO.
 */
#include <string.h>
#include <sys/mman.h>

#include "cpu_int.h"
#include "decode.h"
#include "intr.h"
#include "mmu.h"
#include "seg.h"

#define CR4_ALLOWED (0x1u /*VME*/ | 0x4u /*TSD*/ | 0x8u /*DE*/ | SYS_CR4_PSE | SYS_CR4_PGE | \
                     0x200u /*OSFXSR*/ | 0x400u /*OSXMMEXCPT*/)

#define PEEK_P 1u /* present */
#define PEEK_U 2u /* user at both levels */
#define PEEK_G 4u /* the G bit of the leaf (CR4.PGE not looked at) */

static void cpu_sys_keep_code(struct cpu *cpu, unsigned need);

static struct sys_ctx cpu_sys_ctx(struct cpu *cpu)
{
    return (struct sys_ctx){&cpu->state, cpu->ram, cpu->ram_bytes};
}

static int cpu_sys_raise(struct cpu_exit *ex, const struct sys_fault *f)
{
    ex->reason = CPU_EXIT_EXCEPTION;
    ex->vector = f->vector;
    ex->has_error_code = f->has_error;
    ex->error_code = f->has_error ? f->error : 0;
    ex->fault_gla = f->cr2;
    return 1;
}

int cpu_sys_init(struct cpu *cpu, const struct cpu_config *cfg)
{
    if (cfg->ram_fd < 0 || cfg->ram_bytes == 0 || (cfg->ram_bytes & (CPU_PAGE_SIZE - 1)) ||
        cfg->ram_bytes > 0xC0000000ull || !cfg->io)
        return -1;
    cpu->ram_bytes = cfg->ram_bytes;
    cpu->io = cfg->io;
    cpu->io_opaque = cfg->io_opaque;
    cpu->ram = mmap(NULL, cfg->ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, cfg->ram_fd, 0);
    if (cpu->ram == MAP_FAILED) {
        cpu->ram = NULL;
        return -1;
    }
    cpu->ram_fd = cfg->ram_fd;
    if (view_sys_code_init(cpu) != 0)
        return -1;
    view_sys_select(cpu, 0);
    /* flat protected mode at CPL 0, as the Linux 32-bit boot protocol starts */
    struct vmp_x86_state *s = &cpu->state;
    s->eflags = 0x2;
    s->cr0 = SYS_CR0_PE | 0x10u; /* ET */
    s->seg[VMP_CS] = (struct vmp_x86_seg){0x10, SEG_ATTR_CODE32(0), 0, 0xffffffffu};
    for (int i = 0; i < VMP_NSEG; i++)
        if (i != VMP_CS)
            s->seg[i] = (struct vmp_x86_seg){0x18, SEG_ATTR_DATA32(0), 0, 0xffffffffu};
    s->tr.attr = 0x8b;
    cpu->view_cr0 = s->cr0;
    return 0;
}

static inline void cpu_sys_wrgsbase(uint64_t base)
{
    __asm__ volatile("wrgsbase %0" ::"r"(base) : "memory");
}

void cpu_sys_sync_view(struct cpu *cpu)
{
    const struct vmp_x86_state *s = &cpu->state;
    int user = sys_cpl(s) == 3;
    int paging_changed = ((s->cr0 ^ cpu->view_cr0) & (SYS_CR0_PG | SYS_CR0_WP)) ||
                         ((s->cr4 ^ cpu->view_cr4) & (SYS_CR4_PSE | SYS_CR4_PGE)) ||
                         ((s->cr0 & SYS_CR0_PG) && s->cr3 != cpu->view_cr3);
    if (paging_changed) {
        /* SDM 3A 4.10.4.1: a change of CR4.PGE flushes the whole TLB (Linux
         * toggles it to flush global pages): the same tables, so the
         * blocks of pages still mapped to the same frame stay. Other
         * changes drop the blocks too (they are keyed by linear address). */
        int pge_only = !((s->cr0 ^ cpu->view_cr0) & (SYS_CR0_PG | SYS_CR0_WP)) &&
                       !((s->cr4 ^ cpu->view_cr4) & SYS_CR4_PSE) && s->cr3 == cpu->view_cr3 &&
                       (s->cr0 & SYS_CR0_PG);
        view_sys_unmap_all(cpu);
        if (pge_only)
            cpu_sys_keep_code(cpu, PEEK_U | PEEK_G);
        else
            tc_flush(cpu);
        cpu->view_cr0 = s->cr0;
        cpu->view_cr3 = s->cr3;
        cpu->view_cr4 = s->cr4;
        cpu->fault_repeats = 0;
    }
    if (user != cpu->view_user) {
        /* the other privilege's view: nothing is unmapped */
        view_sys_select(cpu, user);
        cpu_sys_wrgsbase(cpu->rt->view);
        cpu->fault_repeats = 0;
        /* and its blocks: a block translated at CPL 0 must not run at CPL
         * 3, where fetching its code may fault (DESIGN.md: blocks are
         * found by address and mode, CPL included). Bit 2 of the context
         * key, as cpu.c's cpu_check_seg_assumptions computes it. */
        unsigned m = (cpu->null_fsgs & 3u) | (user ? 4u : 0u);
        tc_switch_ctx(cpu, m, cpu->xlat_fs_base, cpu->xlat_gs_base);
        cpu->null_fsgs = (uint8_t)m;
    }
}

static uint32_t cpu_sys_reg_get(const uint32_t *r, unsigned reg, unsigned size)
{
    if (size == 1)
        return reg < 4 ? r[reg] & 0xffu : (r[reg - 4] >> 8) & 0xffu;
    return size == 2 ? r[reg] & 0xffffu : r[reg];
}

static void cpu_sys_reg_set(uint32_t *r, unsigned reg, unsigned size, uint32_t v)
{
    if (size == 1) {
        uint32_t *d = reg < 4 ? &r[reg] : &r[reg - 4];
        unsigned shift = reg < 4 ? 0 : 8;
        *d = (*d & ~(0xffu << shift)) | ((v & 0xffu) << shift);
    } else if (size == 2) {
        r[reg] = (r[reg] & 0xffff0000u) | (v & 0xffffu);
    } else {
        r[reg] = v;
    }
}

/* the low size bytes (1, 2 or 4) of a value */
static uint32_t cpu_sys_mask(unsigned size)
{
    return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

/* a string instruction's register (ESI, EDI, ECX) set to v in the address
 * size's part (amask), the rest kept (SDM 2A MOVS: SI, DI, CX with 0x67) */
static void cpu_sys_reg_addr_set(uint32_t *r, unsigned reg, uint32_t amask, uint32_t v)
{
    r[reg] = (r[reg] & ~amask) | (v & amask);
}

/* ALU operations as the /r field of 80-83 numbers them; TEST is AND
 * without a result. */
enum { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7, ALU_TEST = 8,
       ALU_INC, ALU_DEC, ALU_NOT, ALU_NEG, ALU_XCHG, ALU_NONE };

#define FLAGS_ARITH 0x8d5u /* CF PF AF ZF SF OF */

/* op on size-byte a and b, with carry cin (0 or 1: ADC, SBB) for ADD and
 * SUB: the result, and the arithmetic flags in *flags (SDM 1 appendix A;
 * AF is 0 after the logical ones, as on hardware). */
static uint32_t cpu_sys_alu(unsigned op, uint32_t a, uint32_t b, uint32_t cin, unsigned size,
                            uint32_t *flags)
{
    uint32_t mask = cpu_sys_mask(size);
    uint32_t sign = 1u << (size * 8 - 1), res, f = 0;
    a &= mask;
    b &= mask;
    switch (op) {
    case ALU_ADD:
        res = (a + b + cin) & mask;
        f |= ((uint64_t)a + b + cin > mask ? 0x1u : 0) | ((a ^ b ^ res) & 0x10u) |
             ((a ^ res) & (b ^ res) & sign ? 0x800u : 0);
        break;
    case ALU_SUB:
    case ALU_CMP:
        res = (a - b - cin) & mask;
        f |= ((uint64_t)a < (uint64_t)b + cin ? 0x1u : 0) | ((a ^ b ^ res) & 0x10u) |
             ((a ^ b) & (a ^ res) & sign ? 0x800u : 0);
        break;
    case ALU_OR:
        res = a | b;
        break;
    case ALU_XOR:
        res = a ^ b;
        break;
    default:
        res = a & b;
        break;
    }
    f |= (res == 0 ? 0x40u : 0) | (res & sign ? 0x80u : 0) |
         (__builtin_parity(res & 0xffu) ? 0 : 0x4u);
    *flags = f;
    return res;
}

static int cpu_sys_gp0(struct cpu_exit *ex);

/* size bytes (1-4) at linear gla, for an instruction that touched MMIO
 * (string elements too) or for INS's element: each page's part through
 * the page walk, RAM from RAM, the rest from the board in the widest
 * naturally sized pieces (a dword crossing from a device page into the
 * next is two word accesses, as the bus splits it).
 * write 2: only check that a write would be allowed (a read-modify-write
 * faults before it reads the device, INS before it reads the port). 0, or
 * 1 with *ex (#PF). */
static int cpu_sys_mem_rw(struct cpu *cpu, uint32_t gla, uint32_t *v, unsigned size, int write,
                          struct cpu_exit *ex)
{
    struct sys_ctx c = cpu_sys_ctx(cpu);
    struct mmu_walk w[2];
    struct sys_fault f;
    unsigned access = (write ? MMU_WRITE : 0) | seg_access(&cpu->state);
    unsigned first = 0x1000u - (gla & 0xfffu);
    if (first > size)
        first = size;
    if (mmu_translate(&c, gla, access, &w[0], &f) < 0)
        return cpu_sys_raise(ex, &f);
    if (first < size && mmu_translate(&c, gla + first, access, &w[1], &f) < 0)
        return cpu_sys_raise(ex, &f);
    if (write == 2)
        return 0;
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(*v >> (8 * i));
    for (unsigned done = 0; done < size;) {
        unsigned part = done < first ? first - done : size - done;
        uint32_t a = gla + done;
        uint32_t gpa = done < first ? w[0].gpa + done : w[1].gpa + (done - first);
        if ((uint64_t)gpa < cpu->ram_bytes) {
            if (cpu_sys_guest_rw(cpu, a, b + done, part, write, ex))
                return 1;
            done += part;
            continue;
        }
        unsigned n = part >= 4 && !(gpa & 3) ? 4 : part >= 2 && !(gpa & 1) ? 2 : 1;
        uint32_t x = 0;
        if (write) {
            for (unsigned i = 0; i < n; i++)
                x |= (uint32_t)b[done + i] << (8 * i);
            if (cpu->io->mmio_write)
                cpu->io->mmio_write(cpu->io_opaque, gpa, n, x);
        } else {
            if (!cpu->io->mmio_read || cpu->io->mmio_read(cpu->io_opaque, gpa, n, &x) != 0)
                x = 0xffffffffu;
            for (unsigned i = 0; i < n; i++)
                b[done + i] = (uint8_t)(x >> (8 * i));
        }
        done += n;
    }
    if (!write) {
        uint32_t x = 0;
        for (unsigned i = 0; i < size; i++)
            x |= (uint32_t)b[i] << (8 * i);
        *v = x;
    }
    return 0;
}

/*
 * A string instruction (MOVS, CMPS, STOS, LODS, SCAS; REP or not) that
 * touched MMIO: memcpy_toio, memset_io and the like. The translated copy
 * stopped at the element that faulted, its registers showing the progress
 * (DESIGN.md); the rest runs here an element at a time, each side RAM or
 * device (SDM 2A MOVS ... SCAS, REP). 0 with EIP past it, or 1 with *ex.
 */
static int cpu_sys_mmio_string(struct cpu *cpu, const struct x86_insn *in, struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint32_t *r = s->gpr;
    unsigned op = in->opcode & ~1u, size = (in->opcode & 1) ? in->opsize : 1;
    uint32_t amask = in->addrsize == 2 ? 0xffffu : 0xffffffffu;
    uint32_t step = (s->eflags & SYS_FL_DF) ? (uint32_t)-size : size;
    uint32_t src_base = s->seg[in->seg == X86_SEG_NONE ? VMP_DS : in->seg].base;
    uint32_t dst_base = s->seg[VMP_ES].base;
    int uses_si = op == 0xa4 || op == 0xa6 || op == 0xac, uses_di = op != 0xac;
    for (;;) {
        if (in->rep && (r[VMP_ECX] & amask) == 0)
            break;
        uint32_t si = r[VMP_ESI] & amask, di = r[VMP_EDI] & amask, a = 0, b = 0, fl;
        if ((uses_si && (uint64_t)si + size - 1 > amask) ||
            (uses_di && (uint64_t)di + size - 1 > amask))
            return cpu_sys_gp0(ex);
        if (uses_si && cpu_sys_mem_rw(cpu, src_base + si, &a, size, 0, ex))
            return 1;
        switch (op) {
        case 0xa4: /* MOVS */
            if (cpu_sys_mem_rw(cpu, dst_base + di, &a, size, 1, ex))
                return 1;
            break;
        case 0xaa: /* STOS */
            a = cpu_sys_reg_get(r, VMP_EAX, size);
            if (cpu_sys_mem_rw(cpu, dst_base + di, &a, size, 1, ex))
                return 1;
            break;
        case 0xac: /* LODS */
            cpu_sys_reg_set(r, VMP_EAX, size, a);
            break;
        default: /* CMPS: [ESI] - [EDI]; SCAS: EAX - [EDI] */
            if (cpu_sys_mem_rw(cpu, dst_base + di, &b, size, 0, ex))
                return 1;
            if (op == 0xae)
                a = cpu_sys_reg_get(r, VMP_EAX, size);
            cpu_sys_alu(ALU_CMP, a, b, 0, size, &fl);
            s->eflags = (s->eflags & ~FLAGS_ARITH) | fl;
            break;
        }
        if (uses_si)
            cpu_sys_reg_addr_set(r, VMP_ESI, amask, si + step);
        if (uses_di)
            cpu_sys_reg_addr_set(r, VMP_EDI, amask, di + step);
        if (!in->rep)
            break;
        cpu_sys_reg_addr_set(r, VMP_ECX, amask, r[VMP_ECX] - 1);
        if (op == 0xa6 || op == 0xae) {
            int zf = (s->eflags & 0x40u) != 0;
            if ((in->rep == 0xf3 && !zf) || (in->rep == 0xf2 && zf))
                break;
        }
    }
    s->eip += in->len;
    return 0;
}

/* Condition cc (the low nibble of Jcc/SETcc) on eflags (SDM 1 appendix B). */
static int cpu_sys_cond(uint32_t fl, unsigned cc)
{
    int cf = fl & 0x1u, zf = !!(fl & 0x40u), sf = !!(fl & 0x80u), of = !!(fl & 0x800u);
    int pf = !!(fl & 0x4u), r;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    default: r = zf || sf != of; break;
    }
    return (cc & 1) ? !r : r;
}

/* BT, BTS, BTR, BTC (bt: 0-3 in that order) of bit in v, run on the host
 * (below the red zone the compiler may keep locals in)
 * so the flags they leave undefined are the ones the translated forms
 * leave: the new value, and the arithmetic flags in *fl (in: the guest's). */
static uint32_t cpu_sys_host_bt(unsigned bt, uint32_t v, uint32_t bit, uint32_t *fl)
{
    uint64_t f = *fl & FLAGS_ARITH;
#define CPU_SYS_HOST_BT(insn)                                                                  \
    __asm__("leaq -128(%%rsp), %%rsp\n\tpushq %q1\n\tpopfq\n\t" insn " %2, %0\n\t"             \
            "pushfq\n\tpopq %q1\n\tleaq 128(%%rsp), %%rsp"                                      \
            : "+r"(v), "+r"(f) : "r"(bit) : "cc")
    switch (bt) {
    case 0: CPU_SYS_HOST_BT("btl"); break;
    case 1: CPU_SYS_HOST_BT("btsl"); break;
    case 2: CPU_SYS_HOST_BT("btrl"); break;
    default: CPU_SYS_HOST_BT("btcl"); break;
    }
#undef CPU_SYS_HOST_BT
    *fl = (uint32_t)f & FLAGS_ARITH;
    return v;
}

/*
 * An access outside RAM (MMIO: never mapped; gpa is where the fault was) by
 * the instruction at EIP: decode it, access its memory operand (RAM or
 * device, page by page: cpu_sys_mem_rw), write the destination and the
 * flags, and step past it. The forms: MOV r/m <-> reg (88-8B), MOV r/m,
 * imm (C6, C7), MOV with moffs (A0-A3), MOVZX and MOVSX (0F B6/B7/BE/BF):
 * what readb/w/l and writeb/w/l compile to; and what compilers make of
 * volatile read-modify-writes and tests: ADD, ADC, OR, AND, SUB, SBB, XOR,
 * CMP in both directions and with an immediate (00-3B, 80, 81, 83), TEST
 * (84, 85, F6/F7 /0), INC, DEC, NOT, NEG (FE, FF /0-1, F6, F7 /2-3), XCHG
 * (86, 87), BT/BTS/BTR/BTC (0F A3/AB/B3/BB with the register's bit offset
 * reaching other words, 0F BA /4-7), SETcc (0F 90-9F), CMPXCHG (0F B0/B1:
 * the destination is written either way, as the processor does), PUSH m
 * (FF /6), POP m (8F /0, ESP incremented before the address is formed),
 * string instructions (cpu_sys_mmio_string). A read-modify-write checks
 * the write, reads the device, then writes it, as the bus does. An
 * unclaimed address reads as all ones and drops writes (spec/machine.md).
 * Returns 0, 1 with *ex (#PF, #GP), or -1 (another form: internal error
 * naming it).
 */
static int cpu_sys_mmio(struct cpu *cpu, uint32_t gla, uint32_t gpa, struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint32_t *r = s->gpr;
    uint8_t bytes[X86_MAX_INSN_LEN];
    struct x86_insn in;
    size_t avail = cpu_sys_fetch(cpu, s->eip, bytes, sizeof bytes);
    if (x86_decode(bytes, avail, 1, &in) != X86_DEC_OK)
        goto unsupported;
    if (in.kind == X86K_STRING)
        return cpu_sys_mmio_string(cpu, &in, ex);
    unsigned size = (in.flags & X86F_BYTE_OP) ? 1 : in.opsize;
    unsigned msize = size;             /* bytes of the memory access */
    unsigned op = ALU_NONE;
    int load = 0, store = 0, ext = 0;  /* ext: 1 zero-, 2 sign-extends the load */
    int dreg = -1;                     /* the register that gets the result */
    int mem_left = 1;                  /* ALU: the memory operand is the left one */
    int carry = 0;                     /* ADC/SBB: CF goes in */
    int bt = -1, stack = 0;            /* BT* (0-3); 1 PUSH m, 2 POP m */
    uint32_t other = 0;                /* the operand that is not memory */
    uint32_t bit = 0;
    unsigned opc = in.opcode;
    int has_modrm = (in.flags & X86F_MODRM) && in.mod != 3;
    uint32_t maddr = has_modrm ? cpu_helper_ea(cpu, &in) : gla;
    if (in.map == X86_MAP_1 && (opc == 0x88 || opc == 0x89)) {
        store = 1;
        other = cpu_sys_reg_get(r, in.reg, size);
    } else if (in.map == X86_MAP_1 && (opc == 0xc6 || opc == 0xc7)) {
        store = 1;
        other = in.imm;
    } else if (in.map == X86_MAP_1 && opc >= 0xa0 && opc <= 0xa3) {
        maddr = s->seg[in.seg == X86_SEG_NONE ? VMP_DS : in.seg].base + in.imm;
        if (opc >= 0xa2) {
            store = 1;
            other = r[VMP_EAX];
        } else {
            load = 1;
            dreg = VMP_EAX;
        }
    } else if (in.map == X86_MAP_1 && (opc == 0x8a || opc == 0x8b)) {
        load = 1;
        dreg = in.reg;
    } else if (in.map == X86_MAP_0F && (opc == 0xb6 || opc == 0xb7 || opc == 0xbe || opc == 0xbf)) {
        load = 1;
        ext = opc >= 0xbe ? 2 : 1;
        msize = (opc & 1) ? 2 : 1;
        dreg = in.reg;
    } else if (in.map == X86_MAP_1 && opc < 0x40 && (opc & 7) < 4) {
        op = opc >> 3;
        load = 1;
        other = cpu_sys_reg_get(r, in.reg, size);
        if (op == 2 || op == 3) { /* ADC, SBB */
            carry = 1;
            op = op == 2 ? ALU_ADD : ALU_SUB;
        }
        if (opc & 2) { /* reg op= r/m */
            mem_left = 0;
            dreg = op == ALU_CMP ? -1 : (int)in.reg;
        } else {
            store = op != ALU_CMP;
        }
    } else if (in.map == X86_MAP_1 && opc >= 0x80 && opc <= 0x83 && opc != 0x82) {
        op = in.reg;
        if (op == 2 || op == 3) {
            carry = 1;
            op = op == 2 ? ALU_ADD : ALU_SUB;
        }
        load = 1;
        store = op != ALU_CMP;
        other = opc == 0x83 ? (uint32_t)(int32_t)(int8_t)in.imm : in.imm;
    } else if (in.map == X86_MAP_1 && (opc == 0x84 || opc == 0x85)) {
        op = ALU_TEST;
        load = 1;
        other = cpu_sys_reg_get(r, in.reg, size);
    } else if (in.map == X86_MAP_1 && (opc == 0xf6 || opc == 0xf7) && in.reg <= 1) {
        op = ALU_TEST;
        load = 1;
        other = in.imm;
    } else if (in.map == X86_MAP_1 && (((opc == 0xfe || opc == 0xff) && in.reg <= 1) ||
                                       ((opc == 0xf6 || opc == 0xf7) && (in.reg == 2 || in.reg == 3)))) {
        /* INC, DEC (CF kept), NOT (no flags), NEG (0 - v) */
        load = store = 1;
        op = opc >= 0xfe ? (in.reg == 0 ? ALU_INC : ALU_DEC) : (in.reg == 2 ? ALU_NOT : ALU_NEG);
    } else if (in.map == X86_MAP_1 && (opc == 0x86 || opc == 0x87)) {
        load = store = 1; /* XCHG: the old value to the register, the register's to the device */
        other = cpu_sys_reg_get(r, in.reg, size);
        op = ALU_XCHG;
    } else if (in.map == X86_MAP_0F && (opc == 0xa3 || opc == 0xab || opc == 0xb3 || opc == 0xbb)) {
        /* the register's signed bit offset picks the word (SDM 2A BT) */
        bt = (opc >> 3) & 3;
        load = 1;
        store = bt != 0;
        int32_t off = size == 2 ? (int32_t)(int16_t)r[in.reg] : (int32_t)r[in.reg];
        int32_t words = size == 2 ? off >> 4 : off >> 5;
        maddr += (uint32_t)(words * (int32_t)size);
        bit = (uint32_t)off & (size * 8 - 1);
    } else if (in.map == X86_MAP_0F && opc == 0xba && in.reg >= 4) {
        bt = in.reg - 4;
        load = 1;
        store = bt != 0;
        bit = in.imm & (size * 8 - 1);
    } else if (in.map == X86_MAP_0F && opc >= 0x90 && opc <= 0x9f) {
        store = 1;
        msize = size = 1;
        other = (uint32_t)cpu_sys_cond(s->eflags, opc & 0xf);
    } else if (in.map == X86_MAP_0F && (opc == 0xb0 || opc == 0xb1)) {
        load = store = 1;
        op = ALU_CMP; /* the accumulator minus the destination */
        mem_left = 0;
        other = cpu_sys_reg_get(r, VMP_EAX, size);
    } else if (in.map == X86_MAP_1 && opc == 0xff && in.reg == 6) {
        load = 1;
        stack = 1;
    } else if (in.map == X86_MAP_1 && opc == 0x8f && in.reg == 0) {
        store = 1;
        stack = 2;
    } else {
        goto unsupported;
    }
    uint32_t mask = cpu_sys_mask(msize);
    uint32_t v = other, esp = r[VMP_ESP];
    if (stack == 2) { /* POP m: the value off the stack; the address after ESP moves */
        if (cpu_sys_mem_rw(cpu, s->seg[VMP_SS].base + esp, &v, size, 0, ex))
            return 1;
        r[VMP_ESP] = esp + size;
        maddr = cpu_helper_ea(cpu, &in);
        r[VMP_ESP] = esp;
    }
    if (load && store && cpu_sys_mem_rw(cpu, maddr, &v, msize, 2, ex))
        return 1;
    if (stack == 1 && cpu_sys_mem_rw(cpu, s->seg[VMP_SS].base + esp - size, &v, size, 2, ex))
        return 1;
    if (load) {
        if (cpu_sys_mem_rw(cpu, maddr, &v, msize, 0, ex))
            return 1;
        v &= mask;
        if (ext == 2)
            v = msize == 1 ? (uint32_t)(int32_t)(int8_t)v : (uint32_t)(int32_t)(int16_t)v;
    }
    if (bt >= 0) {
        uint32_t fl = s->eflags;
        v = cpu_sys_host_bt((unsigned)bt, v, bit, &fl) & mask;
        s->eflags = (s->eflags & ~FLAGS_ARITH) | fl;
    } else if (in.map == X86_MAP_0F && (opc == 0xb0 || opc == 0xb1)) {
        uint32_t fl;
        cpu_sys_alu(ALU_CMP, other, v, 0, size, &fl);
        s->eflags = (s->eflags & ~FLAGS_ARITH) | fl;
        if (fl & 0x40u) {
            v = cpu_sys_reg_get(r, in.reg, size);
        } else {
            cpu_sys_reg_set(r, VMP_EAX, size, v);
        }
    } else if (op == ALU_XCHG) {
        cpu_sys_reg_set(r, in.reg, size, v);
        v = other;
    } else if (op == ALU_NOT) {
        v = ~v;
    } else if (op == ALU_INC || op == ALU_DEC || op == ALU_NEG) {
        uint32_t fl, cf = s->eflags & 0x1u;
        if (op == ALU_NEG) {
            v = cpu_sys_alu(ALU_SUB, 0, v, 0, size, &fl);
        } else {
            v = cpu_sys_alu(op == ALU_INC ? ALU_ADD : ALU_SUB, v, 1, 0, size, &fl);
            fl = (fl & ~0x1u) | cf;
        }
        s->eflags = (s->eflags & ~FLAGS_ARITH) | fl;
    } else if (op != ALU_NONE) {
        uint32_t fl;
        uint32_t cin = carry ? s->eflags & 0x1u : 0;
        v = mem_left ? cpu_sys_alu(op, v, other, cin, size, &fl)
                     : cpu_sys_alu(op, other, v, cin, size, &fl);
        s->eflags = (s->eflags & ~FLAGS_ARITH) | fl;
    }
    if (stack == 1) {
        if (cpu_sys_mem_rw(cpu, s->seg[VMP_SS].base + esp - size, &v, size, 1, ex))
            return 1;
        r[VMP_ESP] = esp - size;
    } else if (store && cpu_sys_mem_rw(cpu, maddr, &v, msize, 1, ex)) {
        return 1;
    }
    if (stack == 2)
        r[VMP_ESP] = esp + size;
    if (dreg >= 0)
        cpu_sys_reg_set(r, (unsigned)dreg, ext ? in.opsize : size, v);
    s->eip += in.len;
    return 0;
unsupported:
    cpu_set_err(cpu, "MMIO at guest physical 0x%08x (linear 0x%08x) by an instruction that is "
                "not emulated (eip 0x%08x, %s)", gpa, gla, s->eip,
                avail ? x86_kind_name(in.kind) : "no bytes");
    return -1;
}

int cpu_sys_page_fault(struct cpu *cpu, uint32_t gla, int write, struct cpu_exit *ex)
{
    struct sys_ctx c = cpu_sys_ctx(cpu);
    struct mmu_walk w;
    struct sys_fault f;
    cpu_sys_sync_view(cpu);
    unsigned access = (write ? MMU_WRITE : 0) | seg_access(&cpu->state);
    if (mmu_translate(&c, gla, access, &w, &f) < 0) {
        cpu->fault_repeats = 0;
        return cpu_sys_raise(ex, &f);
    }
    if ((uint64_t)w.gpa >= cpu->ram_bytes)
        return cpu_sys_mmio(cpu, gla, w.gpa, ex);
    /* a fault on a page already mapped with the rights the access needs
     * means the mapping does not take: stop rather than loop */
    uint8_t pp = cpu->page[gla >> 12];
    if ((pp & PP_MAPPED) && (!write || ((pp & PROT_WRITE) && !(pp & PP_CODE))) &&
        gla >> 12 == cpu->last_fault_gla >> 12) {
        if (++cpu->fault_repeats > 4) {
            cpu_set_err(cpu, "linear 0x%08x faults again after mapping (eip 0x%08x)", gla,
                        cpu->state.eip);
            return -1;
        }
    } else {
        cpu->fault_repeats = 0;
    }
    cpu->last_fault_gla = gla;
    int prot = PROT_READ | (w.map_writable ? PROT_WRITE : 0) | (w.global ? PP_GLOBAL : 0);
    uint32_t gpa_4m = w.gpa & ~0x3fffffu;
    int rc = w.large && (uint64_t)gpa_4m + 0x400000u <= cpu->ram_bytes
                 ? view_sys_map_large(cpu, gla & ~0x3fffffu, cpu->ram_fd, gpa_4m, prot)
                 : view_sys_map(cpu, gla, cpu->ram_fd, w.gpa, prot);
    if (rc < 0) {
        cpu_set_err(cpu, "mapping linear 0x%08x: error %d", gla, rc);
        return -1;
    }
    return 0;
}

int cpu_sys_guest_rw(struct cpu *cpu, uint32_t gla, void *buf, size_t n, int write,
                     struct cpu_exit *ex)
{
    struct sys_ctx c = cpu_sys_ctx(cpu);
    struct sys_fault f;
    unsigned access = seg_access(&cpu->state);
    int rc = write ? mmu_write(&c, gla, buf, (unsigned)n, access, &f)
                   : mmu_read(&c, gla, buf, (unsigned)n, access, &f);
    if (rc < 0)
        return cpu_sys_raise(ex, &f);
    if (write) {
        /* C wrote to RAM past the view: code translated from these linear
         * pages is stale (SMC through another linear alias is not seen) */
        for (size_t i = 0; i < n; i++)
            if (cpu->page[(uint32_t)(gla + i) >> 12] & PP_CODE)
                view_smc(cpu, (uint32_t)(gla + i));
    }
    return 0;
}

/* Instruction bytes at the current EIP for the emulator: as many as can be
 * fetched, up to max. */
size_t cpu_sys_fetch(struct cpu *cpu, uint32_t gla, uint8_t *buf, size_t max)
{
    struct sys_ctx c = cpu_sys_ctx(cpu);
    struct sys_fault f;
    unsigned access = seg_access(&cpu->state);
    size_t n = 0;
    while (n < max) { /* a page at a time: one walk each */
        uint32_t a = gla + (uint32_t)n;
        size_t chunk = CPU_PAGE_SIZE - (a & (CPU_PAGE_SIZE - 1));
        if (chunk > max - n)
            chunk = max - n;
        if (mmu_read(&c, a, buf + n, (unsigned)chunk, access, &f) != 0)
            break;
        n += chunk;
    }
    return n;
}

void cpu_sys_state_changed(struct cpu *cpu)
{
    view_sys_unmap_all(cpu);
    tc_flush(cpu);
    view_sys_select(cpu, sys_cpl(&cpu->state) == 3); /* cpu_run loads the GS base */
    cpu->view_cr0 = cpu->state.cr0;
    cpu->view_cr3 = cpu->state.cr3;
    cpu->view_cr4 = cpu->state.cr4;
}

void cpu_sys_fini(struct cpu *cpu)
{
    view_sys_code_fini(cpu);
    if (cpu->ram)
        munmap(cpu->ram, cpu->ram_bytes);
}

static int cpu_sys_gp0(struct cpu_exit *ex)
{
    struct sys_fault f;
    sys_fail(&f, SYS_GP, 1, 0);
    return cpu_sys_raise(ex, &f);
}

static int cpu_sys_ud(struct cpu_exit *ex)
{
    struct sys_fault f;
    sys_fail(&f, SYS_UD, 0, 0);
    return cpu_sys_raise(ex, &f);
}

/*
 * After an event that may have switched tasks (SDM 3A 7.3): blocks depend
 * on CR0.TS (a MOV to CR0 flushes them) and on the FS/GS bases and
 * null-ness the new task loaded (cpu.c checks those after an emulated
 * instruction, not after a delivery). CR3 and the privilege level are
 * cpu_sys_sync_view's, which runs after every event.
 */
static void cpu_sys_after_task(struct cpu *cpu, uint16_t tr_before, uint32_t cr0_before)
{
    const struct vmp_x86_state *s = &cpu->state;
    if (s->tr.selector == tr_before && s->cr0 == cr0_before)
        return;
    if ((s->cr0 ^ cr0_before) & SYS_CR0_TS)
        tc_flush(cpu);
    unsigned m = cpu_null_fsgs(cpu) | (cpu->view_user ? 4u : 0u);
    uint32_t fs = s->seg[VMP_FS].base, gs = s->seg[VMP_GS].base;
    if (m != cpu->null_fsgs || fs != cpu->xlat_fs_base || gs != cpu->xlat_gs_base) {
        tc_switch_ctx(cpu, m, fs, gs);
        cpu->null_fsgs = (uint8_t)m;
        cpu->xlat_fs_base = fs;
        cpu->xlat_gs_base = gs;
    }
}

/* intr_raise and what a task gate's switch needs after it */
static int cpu_sys_intr_raise(struct cpu *cpu, uint8_t vector, int has_error, uint32_t error,
                              uint32_t cr2, enum intr_kind kind)
{
    struct sys_ctx c = cpu_sys_ctx(cpu);
    uint16_t tr = cpu->state.tr.selector;
    uint32_t cr0 = cpu->state.cr0;
    int rc = intr_raise(&c, vector, has_error, error, cr2, kind);
    cpu_sys_after_task(cpu, tr, cr0);
    return rc;
}

int cpu_sys_deliver(struct cpu *cpu, const struct cpu_exit *ev, int soft)
{
    enum intr_kind kind = soft ? INTR_SOFT : INTR_EXCEPTION;
    cpu->state.halted = 0;
    return cpu_sys_intr_raise(cpu, ev->vector, ev->has_error_code, ev->error_code,
                              ev->fault_gla, kind);
}

int cpu_sys_poll_intr(struct cpu *cpu)
{
    struct vmp_x86_state *s = &cpu->state;
    if (s->intr_shadow) {
        s->intr_shadow = 0;
        return 0;
    }
    if (!(s->eflags & SYS_FL_IF) || !cpu->io->intr_ack)
        return 0;
    int vector = cpu->io->intr_ack(cpu->io_opaque);
    if (vector < 0)
        return 0;
    s->halted = 0;
    return cpu_sys_intr_raise(cpu, (uint8_t)vector, 0, 0, 0, INTR_EXTERNAL);
}

static int cpu_sys_io_allowed(const struct vmp_x86_state *s)
{
    return sys_cpl(s) <= ((s->eflags & SYS_FL_IOPL) >> 12);
}

/*
 * May IN/OUT/INS/OUTS touch size bytes at port? CPL <= IOPL, or else the
 * 32-bit TSS's I/O permission bit map (SDM 1 19.5.2; Linux's ioperm):
 * every bit of the ports clear, the bytes read within the TSS limit. The
 * map's base is the 16-bit field at 0x66; a map the walk cannot read
 * (a paging hole in the TSS) counts as not allowing the access.
 */
static int cpu_sys_io_port_ok(struct cpu *cpu, uint16_t port, unsigned size)
{
    const struct vmp_x86_state *s = &cpu->state;
    struct sys_ctx c = cpu_sys_ctx(cpu);
    struct sys_fault f;
    uint16_t map = 0, bits = 0;
    if (cpu_sys_io_allowed(s))
        return 1;
    if ((s->tr.attr & (SEG_A_S | 0xdu)) != 0x9u || s->tr.limit < 0x67)
        return 0; /* not a 32-bit TSS */
    if (mmu_read(&c, s->tr.base + 0x66, &map, 2, 0, &f) < 0)
        return 0;
    uint32_t at = (uint32_t)map + port / 8u;
    if (at + 1 > s->tr.limit || mmu_read(&c, s->tr.base + at, &bits, 2, 0, &f) < 0)
        return 0;
    return !(bits & (((1u << size) - 1) << (port & 7u)));
}

static int cpu_sys_rw(struct cpu *cpu, uint32_t gla, void *buf, unsigned len, int write,
                      struct cpu_exit *ex)
{
    return cpu_sys_guest_rw(cpu, gla, buf, len, write, ex);
}

/* What the current tables say about linear page lin, read only (no A/D
 * bits): PEEK_* flags, and *gpn when present. */
static unsigned cpu_sys_peek(const struct cpu *cpu, uint32_t lin, uint32_t *gpn)
{
    const struct vmp_x86_state *s = &cpu->state;
    uint32_t pde, pte;
    uint64_t a = (uint64_t)(s->cr3 & ~0xfffu) + (lin >> 10) * 4;
    if (a + 4 > cpu->ram_bytes)
        return 0;
    memcpy(&pde, cpu->ram + a, 4);
    if (!(pde & 1))
        return 0;
    if ((pde & 0x80) && (s->cr4 & SYS_CR4_PSE)) {
        if (pde & 0x3fe000u) /* PSE-36 high address bits or reserved */
            return 0;
        *gpn = (pde >> 12 & 0xffc00u) | (lin & 0x3ffu);
        return PEEK_P | (pde & 4 ? PEEK_U : 0) | (pde & 0x100 ? PEEK_G : 0);
    }
    a = (uint64_t)(pde & ~0xfffu) + (lin & 0x3ffu) * 4;
    if (a + 4 > cpu->ram_bytes)
        return 0;
    memcpy(&pte, cpu->ram + a, 4);
    if (!(pte & 1))
        return 0;
    *gpn = pte >> 12;
    return PEEK_P | (pde & pte & 4 ? PEEK_U : 0) | (pte & 0x100 ? PEEK_G : 0);
}

/* cpu_int.h; the caller has checked CR4.PGE */
int cpu_sys_peek_global(const struct cpu *cpu, uint32_t lin, uint32_t *gpn)
{
    return (cpu_sys_peek(cpu, lin, gpn) & (PEEK_P | PEEK_G)) == (PEEK_P | PEEK_G);
}

/*
 * After a TLB flush: the blocks translated from linear pages that the
 * current tables still map to the same physical page stay, the rest are
 * dropped (blocks are keyed by linear address). need: the PEEK_* flags a
 * page must have, one of them being enough past PEEK_P: PEEK_G after a
 * CR3 write (SDM 3A 4.10.4.1: it leaves global translations alone, the
 * others may now map other code), PEEK_U | PEEK_G after CR4.PGE changes
 * (same tables: the kernel's pages and user pages that stayed user; a
 * page that lost U drops its blocks, which may have run at CPL 3). Writes
 * to the code through any linear alias are still seen: RAM pages with
 * code are mapped read-only everywhere (view.c).
 */
static void cpu_sys_keep_code(struct cpu *cpu, unsigned need)
{
    if (cpu->xlist_over) {
        view_sys_unmap_all(cpu);
        tc_flush(cpu);
        return;
    }
    uint64_t gen = cpu->flush_gen;
    for (uint32_t i = 0; i < cpu->nx;) {
        uint32_t lin = cpu->xlist[i], gpn = 0;
        unsigned f = cpu_sys_peek(cpu, lin, &gpn);
        if ((f & PEEK_P) && (f & need) && gpn == cpu->xgpn[lin]) {
            i++;
            continue;
        }
        tc_invalidate_page(cpu, lin);
        if (gen != cpu->flush_gen) {
            view_sys_unmap_all(cpu); /* which kept pages changed is lost */
            return;
        }
        view_sys_forget_code(cpu, lin);
        /* a global page kept mapped (view_sys_unmap_nonglobal) whose frame
         * changed: its new code is fetched from the new frame */
        view_sys_unmap_page(cpu, lin << 12);
        cpu->xlist[i] = cpu->xlist[--cpu->nx];
    }
}

static int cpu_sys_mov_cr(struct cpu *cpu, const struct x86_insn *in, struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint32_t *r = s->gpr;
    uint32_t *cr[5] = {&s->cr0, NULL, &s->cr2, &s->cr3, &s->cr4};
    if (in->reg > 4 || in->reg == 1)
        return cpu_sys_ud(ex);
    if (in->opcode == 0x20) {
        r[in->rm] = *cr[in->reg];
        return 0;
    }
    uint32_t v = r[in->rm];
    switch (in->reg) {
    case 0:
        if ((v & SYS_CR0_PG) && !(v & SYS_CR0_PE))
            return cpu_sys_gp0(ex);
        if (!(v & SYS_CR0_PE)) {
            cpu_set_err(cpu, "CR0.PE=0: real mode is not implemented (eip 0x%08x)", s->eip);
            return -1;
        }
        s->cr0 = v | 0x10u;
        tc_flush(cpu); /* blocks depend on TS/EM/MP */
        return 0;
    case 4:
        if (v & ~CR4_ALLOWED)
            return cpu_sys_gp0(ex); /* SDM 2A MOV CR: reserved CR4 bit */
        s->cr4 = v;
        return 0;
    case 3:
        /* SDM 3A 4.10.4.1: any CR3 write flushes, even of the same value */
        s->cr3 = v;
        if (s->cr0 & SYS_CR0_PG) {
            if (s->cr4 & SYS_CR4_PGE) {
                view_sys_unmap_nonglobal(cpu);
                cpu_sys_keep_code(cpu, PEEK_G);
            } else {
                view_sys_unmap_all(cpu);
                tc_flush(cpu);
            }
        }
        cpu->view_cr3 = v;
        return 0;
    default:
        *cr[in->reg] = v;
        return 0;
    }
}

static int cpu_sys_msr(struct cpu *cpu, int write, struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint32_t *r = s->gpr;
    uint64_t v = ((uint64_t)r[VMP_EDX] << 32) | r[VMP_EAX];
    uint64_t tsc = cpu->io->clock_ns ? cpu->io->clock_ns(cpu->io_opaque) : 0;
    uint64_t *p64 = NULL;
    uint32_t *p32 = NULL;
    switch (r[VMP_ECX]) {
    case 0x10: /* IA32_TIME_STAMP_COUNTER */
        if (write)
            s->msr.tsc_adjust = v - tsc;
        else
            v = tsc + s->msr.tsc_adjust;
        break;
    case 0x174: p32 = &s->msr.sysenter_cs; break;
    case 0x175: p32 = &s->msr.sysenter_esp; break;
    case 0x176: p32 = &s->msr.sysenter_eip; break;
    case 0x8b: /* IA32_BIOS_SIGN_ID: no microcode; writes ignored, reads 0 */
        v = 0;
        break;
    case 0x1b: p64 = &s->msr.apic_base; break;
    case 0x1a0: p64 = &s->msr.misc_enable; break;
    case 0x277: p64 = &s->msr.pat; break;
    default:
        return cpu_sys_gp0(ex); /* SDM 2B RDMSR: an unimplemented MSR is #GP(0) */
    }
    if (p32) {
        if (write)
            *p32 = (uint32_t)v;
        v = *p32;
    } else if (p64) {
        if (write)
            *p64 = v;
        v = *p64;
    }
    if (!write) {
        r[VMP_EAX] = (uint32_t)v;
        r[VMP_EDX] = (uint32_t)(v >> 32);
    }
    return 0;
}

static int cpu_sys_0f01(struct cpu *cpu, const struct x86_insn *in, uint32_t ea,
                        struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    unsigned cpl = sys_cpl(s);
    uint8_t buf[6];
    if (in->mod == 3 && in->reg != 4 && in->reg != 6)
        return cpu_sys_ud(ex);
    switch (in->reg) {
    case 0:
    case 1: {
        const struct vmp_x86_dtr *d = in->reg == 0 ? &s->gdtr : &s->idtr;
        memcpy(buf, &d->limit, 2);
        memcpy(buf + 2, &d->base, 4);
        return cpu_sys_rw(cpu, ea, buf, 6, 1, ex);
    }
    case 2:
    case 3: {
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        if (cpu_sys_rw(cpu, ea, buf, 6, 0, ex))
            return 1;
        struct vmp_x86_dtr *d = in->reg == 2 ? &s->gdtr : &s->idtr;
        memcpy(&d->limit, buf, 2);
        memcpy(&d->base, buf + 2, 4);
        if (in->opsize == 2)
            d->base &= 0xffffffu;
        return 0;
    }
    case 4: { /* SMSW */
        uint16_t v = (uint16_t)s->cr0;
        if (in->mod == 3) {
            s->gpr[in->rm] = in->opsize == 4 ? s->cr0 : (s->gpr[in->rm] & 0xffff0000u) | v;
            return 0;
        }
        return cpu_sys_rw(cpu, ea, &v, 2, 1, ex);
    }
    case 6: { /* LMSW: can set PE, not clear it; MP EM TS */
        uint16_t v = 0;
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        if (in->mod == 3)
            v = (uint16_t)s->gpr[in->rm];
        else if (cpu_sys_rw(cpu, ea, &v, 2, 0, ex))
            return 1;
        s->cr0 = (s->cr0 & ~0xeu) | (v & 0xfu) | SYS_CR0_PE;
        tc_flush(cpu);
        return 0;
    }
    case 7: /* INVLPG (SDM 2A): drop the page's mapping and its code */
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        if (cpu->page[ea >> 12] & PP_CODE)
            tc_flush(cpu);
        view_sys_unmap_page(cpu, ea);
        return 0;
    default:
        return cpu_sys_ud(ex);
    }
}

static int cpu_sys_0f00(struct cpu *cpu, const struct x86_insn *in, uint32_t ea,
                        struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    struct sys_ctx c = cpu_sys_ctx(cpu);
    struct sys_fault f;
    uint16_t sel = 0;
    if (in->reg <= 1) { /* SLDT, STR */
        sel = in->reg == 0 ? s->ldtr.selector : s->tr.selector;
        if (in->mod == 3) {
            s->gpr[in->rm] = in->opsize == 4 ? sel : (s->gpr[in->rm] & 0xffff0000u) | sel;
            return 0;
        }
        return cpu_sys_rw(cpu, ea, &sel, 2, 1, ex);
    }
    if (in->reg > 5)
        return cpu_sys_ud(ex);
    if (in->mod == 3)
        sel = (uint16_t)s->gpr[in->rm];
    else if (cpu_sys_rw(cpu, ea, &sel, 2, 0, ex))
        return 1;
    if (in->reg == 4 || in->reg == 5) {
        int ok = in->reg == 4 ? seg_verr(&c, sel) : seg_verw(&c, sel);
        s->eflags = ok ? s->eflags | 0x40u : s->eflags & ~0x40u;
        return 0;
    }
    if (sys_cpl(s) != 0)
        return cpu_sys_gp0(ex);
    uint64_t raw;
    struct vmp_x86_seg d;
    if (in->reg == 2 && (sel & 0xfffcu) == 0) { /* LLDT null: no LDT */
        s->ldtr = (struct vmp_x86_seg){sel, 0, 0, 0};
        return 0;
    }
    if ((sel & 4) || seg_desc_read(&c, sel, &raw, &f) < 0) {
        if (sel & 4)
            sys_fail(&f, SYS_GP, 1, sel & 0xfffcu);
        return cpu_sys_raise(ex, &f);
    }
    seg_from_desc(raw, sel, &d);
    unsigned want = in->reg == 2 ? 0x2u : 0x9u; /* LDT, available 32-bit TSS */
    if ((d.attr & (SEG_A_S | SEG_A_TYPE)) != want) {
        sys_fail(&f, SYS_GP, 1, sel & 0xfffcu);
        return cpu_sys_raise(ex, &f);
    }
    if (!(d.attr & SEG_A_P)) {
        sys_fail(&f, SYS_NP, 1, sel & 0xfffcu);
        return cpu_sys_raise(ex, &f);
    }
    if (in->reg == 2) {
        s->ldtr = d;
        return 0;
    }
    /* LTR marks the TSS busy (SDM 2A LTR) */
    uint8_t type_byte = (uint8_t)(raw >> 40) | 0x2u;
    if (mmu_write(&c, s->gdtr.base + (sel & 0xfff8u) + 5, &type_byte, 1, 0, &f) < 0)
        return cpu_sys_raise(ex, &f);
    d.attr |= 0x2u;
    s->tr = d;
    return 0;
}

static int cpu_sys_port(struct cpu *cpu, const struct x86_insn *in, struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint32_t *r = s->gpr;
    unsigned size = (in->flags & X86F_BYTE_OP) ? 1 : in->opsize;
    uint16_t port = (in->opcode & 0x08) ? (uint16_t)r[VMP_EDX] : (uint16_t)in->imm;
    if (!cpu_sys_io_port_ok(cpu, port, size))
        return cpu_sys_gp0(ex);
    if (in->kind == X86K_OUT) {
        cpu->io->port_out(cpu->io_opaque, port, size, r[VMP_EAX] & cpu_sys_mask(size));
        return 0;
    }
    cpu_sys_reg_set(r, VMP_EAX, size, cpu->io->port_in(cpu->io_opaque, port, size));
    return 0;
}

/*
 * INS and OUTS, REP or not (SDM 2A INS, 2B OUTS): one element at a time,
 * the port through the board as for IN/OUT (CPL <= IOPL or the TSS's I/O
 * bit map), memory through the page walk. INS writes ES:EDI (ES's cached
 * base, no override), OUTS reads DS:ESI or the override. A fault midway
 * leaves ECX and ESI/EDI at the elements done and EIP at the instruction,
 * which restarts from there (SDM 2A REP); INS checks that the element is
 * writable before it reads the port, so a faulting element does not eat
 * the device's data. A REP runs to its end in one call (no interrupt
 * window between elements).
 */
static int cpu_sys_string_io(struct cpu *cpu, const struct x86_insn *in, uint32_t next,
                             struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint32_t *r = s->gpr;
    unsigned size = (in->flags & X86F_BYTE_OP) ? 1 : in->opsize;
    uint32_t amask = in->addrsize == 2 ? 0xffffu : 0xffffffffu;
    uint32_t step = (s->eflags & SYS_FL_DF) ? (uint32_t)-size : size;
    uint32_t vmask = cpu_sys_mask(size);
    uint16_t port = (uint16_t)r[VMP_EDX];
    int ins = in->kind == X86K_INS;
    int reg = ins ? VMP_EDI : VMP_ESI;
    const struct vmp_x86_seg *sg = &s->seg[ins ? VMP_ES : in->seg == X86_SEG_NONE ? VMP_DS : in->seg];
    uint32_t base = sg->base;
    if (!cpu_sys_io_port_ok(cpu, port, size))
        return cpu_sys_gp0(ex);
    /* a null (unusable) segment: #GP(0) (SDM 2A INS, protected mode) */
    if ((s->cr0 & SYS_CR0_PE) && !(sg->attr & SEG_A_P))
        return cpu_sys_gp0(ex);
    for (;;) {
        if (in->rep && (r[VMP_ECX] & amask) == 0)
            break;
        uint32_t off = r[reg] & amask, v = 0;
        if ((uint64_t)off + size - 1 > amask)
            return cpu_sys_gp0(ex); /* past the 64 KiB or 4 GiB of the address size */
        if (ins) {
            if (cpu_sys_mem_rw(cpu, base + off, &v, size, 2, ex))
                return 1;
            v = cpu->io->port_in(cpu->io_opaque, port, size) & vmask;
            if (cpu_sys_guest_rw(cpu, base + off, &v, size, 1, ex))
                return 1;
        } else {
            if (cpu_sys_guest_rw(cpu, base + off, &v, size, 0, ex))
                return 1;
            cpu->io->port_out(cpu->io_opaque, port, size, v & vmask);
        }
        cpu_sys_reg_addr_set(r, (unsigned)reg, amask, off + step);
        if (!in->rep)
            break;
        cpu_sys_reg_addr_set(r, VMP_ECX, amask, r[VMP_ECX] - 1);
    }
    s->eip = next;
    return 0;
}

int cpu_sys_emulate(struct cpu *cpu, const struct x86_insn *in, uint32_t next,
                    struct cpu_exit *ex)
{
    struct vmp_x86_state *s = &cpu->state;
    uint32_t *r = s->gpr;
    struct sys_ctx c = cpu_sys_ctx(cpu);
    struct sys_fault f;
    unsigned cpl = sys_cpl(s);
    uint32_t ea = (in->flags & X86F_MEM) ? cpu_helper_ea(cpu, in) : 0;
    int rc = 0;

    switch (in->kind) {
    case X86K_HLT:
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        s->eip = next;
        if (s->eflags & SYS_FL_IF)
            s->halted = 1;
        ex->reason = CPU_EXIT_HLT;
        return 1;
    case X86K_CLI:
    case X86K_STI:
        if (!cpu_sys_io_allowed(s))
            return cpu_sys_gp0(ex);
        if (in->kind == X86K_STI && !(s->eflags & SYS_FL_IF)) {
            s->intr_shadow = 1; /* SDM 2B STI: one instruction before interrupts */
            cpu->poll_after_one = 1;
            cpu->smc_step = 1;
        }
        s->eflags = in->kind == X86K_STI ? s->eflags | SYS_FL_IF : s->eflags & ~SYS_FL_IF;
        break;
    case X86K_IN:
    case X86K_OUT:
        rc = cpu_sys_port(cpu, in, ex);
        break;
    case X86K_PUSHF:
        return 2; /* the user-mode form pushes s->eflags, IF and IOPL included */
    case X86K_POPF: {
        uint32_t v = 0, iopl = (s->eflags & SYS_FL_IOPL) >> 12;
        if (cpu_sys_rw(cpu, r[VMP_ESP], &v, in->opsize, 0, ex))
            return 1;
        /* SDM 2B POPF: IOPL at CPL 0 only, IF when CPL <= IOPL; VM, RF stay */
        uint32_t mask = 0x244dd5u | SYS_FL_TF | SYS_FL_NT;
        if (cpl == 0)
            mask |= SYS_FL_IOPL;
        if (cpl <= iopl)
            mask |= SYS_FL_IF;
        if (in->opsize == 2)
            mask &= 0xffffu;
        s->eflags = (s->eflags & ~mask) | (v & mask) | 0x2u;
        r[VMP_ESP] += in->opsize;
        break;
    }
    case X86K_MOV_CR:
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        rc = cpu_sys_mov_cr(cpu, in, ex);
        break;
    case X86K_MOV_DR: {
        unsigned dr = in->reg;
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        /* SDM 3B 17.2.2: DR4/DR5 are #UD with CR4.DE, else DR6/DR7 */
        if (dr == 4 || dr == 5) {
            if (s->cr4 & 0x8u)
                return cpu_sys_ud(ex);
            dr += 2;
        }
        if (in->opcode == 0x21)
            r[in->rm] = s->dr[dr];
        else
            s->dr[dr] = r[in->rm];
        break;
    }
    case X86K_CLTS:
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        s->cr0 &= ~SYS_CR0_TS;
        tc_flush(cpu);
        break;
    case X86K_INVD:
    case X86K_WBINVD:
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        break;
    case X86K_INVLPG: /* SDM 2A INVLPG: drop the page's mapping and its code */
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        if (cpu->page[ea >> 12] & PP_CODE)
            tc_flush(cpu);
        view_sys_unmap_page(cpu, ea);
        break;
    case X86K_RDMSR:
    case X86K_WRMSR:
        if (cpl != 0)
            return cpu_sys_gp0(ex);
        rc = cpu_sys_msr(cpu, in->kind == X86K_WRMSR, ex);
        break;
    case X86K_RDTSC:
    case X86K_RDTSCP: {
        if ((s->cr4 & 0x4u) && cpl != 0)
            return cpu_sys_gp0(ex); /* CR4.TSD */
        uint64_t t = (cpu->io->clock_ns ? cpu->io->clock_ns(cpu->io_opaque) : 0) +
                     s->msr.tsc_adjust;
        r[VMP_EAX] = (uint32_t)t;
        r[VMP_EDX] = (uint32_t)(t >> 32);
        /* RDTSCP reads the same counter (Linux's rdtsc_ordered uses it when
         * the profile has it); IA32_TSC_AUX is not modelled: ECX = 0 */
        if (in->kind == X86K_RDTSCP)
            r[VMP_ECX] = 0;
        break;
    }
    case X86K_SYS_0F01:
        rc = cpu_sys_0f01(cpu, in, ea, ex);
        break;
    case X86K_SYS_0F00:
        rc = cpu_sys_0f00(cpu, in, ea, ex);
        break;
    case X86K_LAR:
    case X86K_LSL: {
        uint16_t sel = 0;
        uint32_t v = 0;
        if (in->mod == 3)
            sel = (uint16_t)r[in->rm];
        else if (cpu_sys_rw(cpu, ea, &sel, 2, 0, ex))
            return 1;
        int ok = in->kind == X86K_LAR ? seg_lar(&c, sel, &v) : seg_lsl(&c, sel, &v);
        if (ok)
            r[in->reg] = in->opsize == 4 ? v : (r[in->reg] & 0xffff0000u) | (v & 0xffffu);
        s->eflags = ok ? s->eflags | 0x40u : s->eflags & ~0x40u;
        break;
    }
    case X86K_MOV_TO_SEG:
    case X86K_POP_SEG: {
        uint16_t sel = 0;
        int sreg = in->kind == X86K_POP_SEG
                       ? (in->map == X86_MAP_1 ? (in->opcode >> 3) & 3 : (in->opcode == 0xa1 ? VMP_FS : VMP_GS))
                       : in->reg;
        if (sreg >= VMP_NSEG || sreg == VMP_CS)
            return cpu_sys_ud(ex);
        if (in->kind == X86K_POP_SEG) {
            if (cpu_sys_rw(cpu, r[VMP_ESP], &sel, 2, 0, ex))
                return 1;
        } else if (in->mod == 3) {
            sel = (uint16_t)r[in->rm];
        } else if (cpu_sys_rw(cpu, ea, &sel, 2, 0, ex)) {
            return 1;
        }
        if (seg_load(&c, sreg, sel, &f) < 0)
            return cpu_sys_raise(ex, &f);
        if (in->kind == X86K_POP_SEG)
            r[VMP_ESP] += in->opsize;
        if (sreg == VMP_SS) {
            s->intr_shadow = 1; /* SDM 2A MOV: interrupts wait one instruction */
            cpu->poll_after_one = 1;
            cpu->smc_step = 1;
        }
        break;
    }
    case X86K_LOAD_FARPTR: {
        uint32_t off = 0;
        uint16_t sel = 0;
        int sreg = in->map == X86_MAP_1 ? (in->opcode == 0xc4 ? VMP_ES : VMP_DS)
                                : (in->opcode == 0xb2 ? VMP_SS : in->opcode == 0xb4 ? VMP_FS : VMP_GS);
        if (cpu_sys_rw(cpu, ea, &off, in->opsize, 0, ex) ||
            cpu_sys_rw(cpu, ea + in->opsize, &sel, 2, 0, ex))
            return 1;
        if (seg_load(&c, sreg, sel, &f) < 0)
            return cpu_sys_raise(ex, &f);
        r[in->reg] = in->opsize == 4 ? off : (r[in->reg] & 0xffff0000u) | (off & 0xffffu);
        break;
    }
    case X86K_JMP_FAR:
    case X86K_CALL_FAR: {
        uint16_t tr = s->tr.selector;
        uint32_t cr0 = s->cr0;
        uint32_t off = in->imm;
        uint16_t sel = (uint16_t)in->imm2;
        if (in->flags & X86F_MODRM) {
            off = 0;
            if (in->mod == 3)
                return cpu_sys_ud(ex);
            if (cpu_sys_rw(cpu, ea, &off, in->opsize, 0, ex) ||
                cpu_sys_rw(cpu, ea + in->opsize, &sel, 2, 0, ex))
                return 1;
        }
        s->eip = next;
        int r2 = in->kind == X86K_JMP_FAR ? seg_far_jmp(&c, sel, off, in->opsize, &f)
                                          : seg_far_call(&c, sel, off, in->opsize, &f);
        cpu_sys_after_task(cpu, tr, cr0);
        if (r2 < 0) {
            if (!f.in_new_task)
                s->eip = next - in->len;
            return cpu_sys_raise(ex, &f);
        }
        return 0;
    }
    case X86K_RET_FAR:
        s->eip = next;
        if (seg_far_ret(&c, in->opsize, in->opcode == 0xca ? (uint16_t)in->imm : 0, &f) < 0) {
            s->eip = next - in->len;
            return cpu_sys_raise(ex, &f);
        }
        return 0;
    case X86K_IRET: {
        uint16_t tr = s->tr.selector;
        uint32_t cr0 = s->cr0;
        s->eip = next; /* what a task return saves */
        int r2 = intr_iret(&c, in->opsize, &f);
        cpu_sys_after_task(cpu, tr, cr0);
        if (r2 < 0) {
            if (!f.in_new_task)
                s->eip = next - in->len;
            return cpu_sys_raise(ex, &f);
        }
        return 0;
    }
    case X86K_SYSENTER:
    case X86K_SYSEXIT:
        if ((in->kind == X86K_SYSENTER ? seg_sysenter(&c, &f) : seg_sysexit(&c, &f)) < 0)
            return cpu_sys_raise(ex, &f);
        return 0;
    case X86K_SYSCALL:
    case X86K_SYSRET:
        return cpu_sys_ud(ex); /* the profiles have no SYSCALL */
    case X86K_ARPL: { /* SDM 2A ARPL: raise the destination's RPL to the source's */
        uint16_t dst = 0, src = (uint16_t)r[in->reg];
        if (!(s->cr0 & SYS_CR0_PE))
            return cpu_sys_ud(ex);
        if (in->mod == 3)
            dst = (uint16_t)r[in->rm];
        else if (cpu_sys_rw(cpu, ea, &dst, 2, 0, ex))
            return 1;
        if ((dst & 3u) >= (src & 3u)) {
            s->eflags &= ~0x40u;
            break;
        }
        dst = (uint16_t)((dst & ~3u) | (src & 3u));
        if (in->mod == 3)
            r[in->rm] = (r[in->rm] & 0xffff0000u) | dst;
        else if (cpu_sys_rw(cpu, ea, &dst, 2, 1, ex))
            return 1;
        s->eflags |= 0x40u;
        break;
    }
    case X86K_INS:
    case X86K_OUTS:
        return cpu_sys_string_io(cpu, in, next, ex);
    default:
        return 2;
    }
    if (rc)
        return rc;
    s->eip = next;
    return 0;
}
