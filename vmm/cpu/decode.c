/*
 * decode.c - the x86 instruction decoder for 16- and 32-bit code.
 *
 * Steps (SDM 2A 2.1, figure 2-1): legacy prefixes, the opcode (one byte,
 * 0F xx, 0F 38 xx or 0F 3A xx), ModRM, SIB, displacement, immediate. The
 * tables in decode_tables.c say what each opcode takes; the ModRM groups
 * (table A-6), x87 (A.4) and prefix-selected SSE opcodes are resolved
 * here once ModRM is known.
 *
 * Every byte is read through dec_fetch(), which enforces both the caller's
 * buffer end (X86_DEC_NEED_MORE) and the 15-byte limit (X86_DEC_TOO_LONG).
 */
#include <string.h>

#include "decode.h"
#include "decode_tables.h"

struct dec_state {
    const uint8_t *bytes;
    size_t avail;
    unsigned pos;
};

static int dec_fetch(struct dec_state *st, uint8_t *b)
{
    /* SDM 2A 2.3.11: an instruction longer than 15 bytes raises #GP */
    if (st->pos >= X86_MAX_INSN_LEN)
        return X86_DEC_TOO_LONG;
    if (st->pos >= st->avail)
        return X86_DEC_NEED_MORE;
    *b = st->bytes[st->pos++];
    return X86_DEC_OK;
}

static int dec_fetch_le(struct dec_state *st, unsigned size, uint32_t *v)
{
    uint32_t x = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b;
        int rc = dec_fetch(st, &b);
        if (rc != X86_DEC_OK)
            return rc;
        x |= (uint32_t)b << (8 * i);
    }
    *v = x;
    return X86_DEC_OK;
}

#define NOF  VMP_FEAT_NONE
#define MR   X86F_MEM_READ
#define MW   X86F_MEM_WRITE
#define MRW  (X86F_MEM_READ | X86F_MEM_WRITE)
#define WF   X86F_WRITES_FLAGS
#define RF   X86F_READS_FLAGS
#define SENS X86F_SENSITIVE
#define PRIV (X86F_PRIV | X86F_SENSITIVE)
#define STK  (X86F_STACK | X86F_IMPLICIT_MEM)

static struct dec_entry dec_mk(unsigned kind, unsigned imm, unsigned attr, unsigned feat,
                               uint32_t flags)
{
    struct dec_entry e = {(uint8_t)kind, (uint8_t)imm, (uint16_t)attr, (uint16_t)feat, NOF, flags};
    return e;
}

static struct dec_entry dec_ud(void)
{
    return dec_mk(X86K_UD, DI_NONE, DA_UD, NOF, 0);
}

/*
 * x87 escape D8-DF (SDM 2A A.4, tables ). Memory forms by
 * ModRM.reg; register forms by the whole ModRM byte. The register-form
 * aliases the SDM leaves blank (D9 D8-DF FSTP1, DC D0-DF FCOM2/FCOMP3,
 * DD C8-CF FXCH4, DE D0-D7 FCOMP5, DF C0-DF FFREEP/FXCH7/FSTP8/FSTP9) and
 * DB E0/E1/E4 (FENI/FDISI/FSETPM, no-ops since the 387) execute on Intel
 * and AMD processors, so they decode.
 */
static struct dec_entry dec_x87(uint8_t opc, uint8_t modrm)
{
    const uint32_t fl = X86F_X87 | X86F_SETS_TS_TRAP;
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7;
    struct dec_entry e = dec_mk(X86K_COPY, DI_NONE, DA_MODRM, VMP_FEAT_FPU, fl);

    if (mod != 3) {
        /* row: per reg, 'R' load, 'W' store, 'U' undefined, 'S' FISTTP (SSE3) */
        static const char *const mem[8] = {
            "RRRRRRRR", /* D8 arithmetic m32fp */
            "RUWWRRWW", /* D9 FLD - FST FSTP FLDENV FLDCW FNSTENV FNSTCW */
            "RRRRRRRR", /* DA arithmetic m32int */
            "RSWWURUW", /* DB FILD FISTTP FIST FISTP - FLD80 - FSTP80 */
            "RRRRRRRR", /* DC arithmetic m64fp */
            "RSWWRUWW", /* DD FLD FISTTP FST FSTP FRSTOR - FNSAVE FNSTSW */
            "RRRRRRRR", /* DE arithmetic m16int */
            "RSWWRRWW", /* DF FILD FISTTP FIST FISTP FBLD FILD64 FBSTP FISTP64 */
        };
        char c = mem[opc - 0xd8][reg];
        if (c == 'U')
            return dec_ud();
        e.flags |= (c == 'R') ? MR : MW;
        if (c == 'S') {
            e.feat = VMP_FEAT_SSE3;
            e.feat2 = VMP_FEAT_FPU;
        }
        return e;
    }
    switch (opc) {
    case 0xd9:
        if ((reg == 2 && modrm != 0xd0) || /* FNOP only */
            (reg == 4 && (modrm & 7) != 0 && (modrm & 7) != 1 && (modrm & 7) != 4 &&
             (modrm & 7) != 5) || /* FCHS FABS FTST FXAM */
            modrm == 0xef)        /* after FLDZ */
            return dec_ud();
        break;
    case 0xda:
        if (reg < 4) { /* FCMOVcc */
            e.feat = VMP_FEAT_CMOV;
            e.feat2 = VMP_FEAT_FPU;
            e.flags |= RF;
        } else if (modrm != 0xe9) { /* FUCOMPP only */
            return dec_ud();
        }
        break;
    case 0xdb:
        if (reg < 4) { /* FCMOVNcc */
            e.feat = VMP_FEAT_CMOV;
            e.feat2 = VMP_FEAT_FPU;
            e.flags |= RF;
        } else if (reg == 4) { /* FENI FDISI FNCLEX FNINIT FSETPM */
            if ((modrm & 7) > 4)
                return dec_ud();
        } else if (reg == 7) {
            return dec_ud();
        } else { /* FUCOMI FCOMI */
            e.feat = VMP_FEAT_CMOV;
            e.feat2 = VMP_FEAT_FPU;
            e.flags |= WF;
        }
        break;
    case 0xdd:
        if (reg >= 6)
            return dec_ud();
        break;
    case 0xde:
        if (reg == 3 && modrm != 0xd9) /* FCOMPP only */
            return dec_ud();
        break;
    case 0xdf:
        if (reg == 4 && modrm != 0xe0) /* FNSTSW AX only */
            return dec_ud();
        if (reg == 7)
            return dec_ud();
        if (reg == 5 || reg == 6) { /* FUCOMIP FCOMIP */
            e.feat = VMP_FEAT_CMOV;
            e.feat2 = VMP_FEAT_FPU;
            e.flags |= WF;
        }
        break;
    default:
        break;
    }
    return e;
}

/* One-byte map groups 1, 1A, 2, 3, 4, 5, 11 (SDM 2A table A-6). */
static struct dec_entry dec_group1(uint8_t opc, uint8_t modrm, unsigned imm)
{
    unsigned reg = (modrm >> 3) & 7;
    unsigned byte = dec_map1[opc].attr & DA_BYTE;

    switch (opc) {
    case 0x80:
    case 0x81:
    case 0x82:
    case 0x83: /* group 1: ADD OR ADC SBB AND SUB XOR CMP */
        if (reg == 7)
            return dec_mk(X86K_COPY, imm, DA_MODRM | byte, NOF, MR | WF);
        return dec_mk(X86K_COPY, imm, DA_MODRM | DA_LOCK | byte, NOF,
                      MRW | WF | ((reg == 2 || reg == 3) ? RF : 0));
    case 0x8f: /* group 1A: POP Ev; other reg values are XOP (AMD) */
        if (reg != 0)
            return dec_ud();
        return dec_mk(X86K_POP, DI_NONE, DA_MODRM, NOF, STK | MRW);
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        /* group 2: ROL ROR RCL RCR SHL SHR SAL(/6, an alias of SHL) SAR */
        return dec_mk(X86K_COPY, imm, DA_MODRM | byte, NOF,
                      MRW | WF | ((reg == 2 || reg == 3) ? RF : 0));
    case 0xc6:
    case 0xc7: /* group 11: MOV Ev,Iz; /7 is XABORT/XBEGIN (RTM) */
        if (reg != 0)
            return dec_ud();
        return dec_mk(X86K_COPY, imm, DA_MODRM | byte, NOF, MW);
    case 0xf6:
    case 0xf7: /* group 3 */
        switch (reg) {
        case 0:
        case 1: /* TEST Ev,Iz; /1 is an undocumented alias */
            return dec_mk(X86K_COPY, opc == 0xf6 ? DI_B : DI_Z, DA_MODRM | byte, NOF, MR | WF);
        case 2: /* NOT: flags unchanged */
            return dec_mk(X86K_COPY, DI_NONE, DA_MODRM | DA_LOCK | byte, NOF, MRW);
        case 3: /* NEG */
            return dec_mk(X86K_COPY, DI_NONE, DA_MODRM | DA_LOCK | byte, NOF, MRW | WF);
        default: /* MUL IMUL DIV IDIV */
            return dec_mk(X86K_COPY, DI_NONE, DA_MODRM | byte, NOF, MR | WF);
        }
    case 0xfe: /* group 4: INC DEC Eb */
        if (reg > 1)
            return dec_ud();
        return dec_mk(X86K_COPY, DI_NONE, DA_MODRM | DA_LOCK | byte, NOF, MRW | WF);
    case 0xff: /* group 5 */
        switch (reg) {
        case 0:
        case 1:
            return dec_mk(X86K_COPY, DI_NONE, DA_MODRM | DA_LOCK, NOF, MRW | WF);
        case 2:
            return dec_mk(X86K_CALL_IND, DI_NONE, DA_MODRM, NOF, X86F_BRANCH | STK | MW | MR);
        case 3: /* CALL Mp */
            return dec_mk(X86K_CALL_FAR, DI_NONE, DA_MODRM | DA_MEMONLY, NOF,
                          X86F_BRANCH | STK | MW | MR | SENS);
        case 4:
            return dec_mk(X86K_JMP_IND, DI_NONE, DA_MODRM, NOF, X86F_BRANCH | MR);
        case 5: /* JMP Mp */
            return dec_mk(X86K_JMP_FAR, DI_NONE, DA_MODRM | DA_MEMONLY, NOF,
                          X86F_BRANCH | MR | SENS);
        case 6:
            return dec_mk(X86K_PUSH, DI_NONE, DA_MODRM, NOF, STK | MW | MR);
        default:
            return dec_ud();
        }
    default:
        return dec_x87(opc, modrm);
    }
}

/* 0F map groups 6, 7, 8, 9, 15, 16 (SDM 2A table A-6). */
static struct dec_entry dec_group0f(uint8_t opc, uint8_t modrm, unsigned pfx)
{
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7;

    switch (opc) {
    case 0x00: { /* group 6: SLDT STR LLDT LTR VERR VERW */
        static const uint32_t fl[6] = {MW | SENS, MW | SENS,      MR | PRIV,
                                       MR | PRIV, MR | WF | SENS, MR | WF | SENS};
        if (reg > 5)
            return dec_ud();
        return dec_mk(X86K_SYS_0F00, DI_NONE, DA_MODRM | (reg >= 2 ? DA_OP16 : 0), NOF, fl[reg]);
    }
    case 0x01: /* group 7 */
        if (mod != 3) {
            switch (reg) {
            case 0:
            case 1: /* SGDT SIDT */
                return dec_mk(X86K_SYS_0F01, DI_NONE, DA_MODRM, NOF, MW | SENS);
            case 2:
            case 3: /* LGDT LIDT */
                return dec_mk(X86K_SYS_0F01, DI_NONE, DA_MODRM, NOF, MR | PRIV);
            case 4: /* SMSW m16 */
                return dec_mk(X86K_SYS_0F01, DI_NONE, DA_MODRM | DA_OP16, NOF, MW | SENS);
            case 6: /* LMSW */
                return dec_mk(X86K_SYS_0F01, DI_NONE, DA_MODRM | DA_OP16, NOF, MR | PRIV);
            case 7: /* INVLPG: names an address, accesses nothing */
                return dec_mk(X86K_INVLPG, DI_NONE, DA_MODRM, NOF, PRIV);
            default:
                return dec_ud();
            }
        }
        switch (modrm) {
        case 0xc8: /* MONITOR: CPL 0 unless the OS enables it (SDM 2B) */
            return dec_mk(X86K_MONITOR, DI_NONE, DA_MODRM, VMP_FEAT_MONITOR, SENS);
        case 0xc9:
            return dec_mk(X86K_MWAIT, DI_NONE, DA_MODRM, VMP_FEAT_MONITOR, SENS);
        case 0xca:
        case 0xcb: /* CLAC STAC */
            return dec_mk(X86K_SYS_0F01, DI_NONE, DA_MODRM, VMP_FEAT_SMAP, PRIV | WF);
        case 0xd0: /* XGETBV; 66/F2/F3 select other instructions (checked on AMD Zen 4) */
            if (pfx != DP_NP)
                return dec_ud();
            return dec_mk(X86K_XSAVE_FAMILY, DI_NONE, DA_MODRM, VMP_FEAT_XSAVE, SENS);
        case 0xd1: /* XSETBV */
            if (pfx != DP_NP)
                return dec_ud();
            return dec_mk(X86K_XSAVE_FAMILY, DI_NONE, DA_MODRM, VMP_FEAT_XSAVE, PRIV);
        case 0xf9: /* RDTSCP */
            return dec_mk(X86K_RDTSCP, DI_NONE, DA_MODRM, VMP_FEAT_RDTSCP, SENS);
        default:
            break;
        }
        if (reg == 4) /* SMSW r */
            return dec_mk(X86K_SYS_0F01, DI_NONE, DA_MODRM, NOF, SENS);
        if (reg == 6) /* LMSW r */
            return dec_mk(X86K_SYS_0F01, DI_NONE, DA_MODRM | DA_OP16, NOF, PRIV);
        /* VMX, SVM, SWAPGS (64-bit only), ENCLS, PKU, CLZERO...: not decoded */
        return dec_ud();
    case 0x18: /* group 16: PREFETCHNTA/T0/T1/T2; the rest is reserved NOP */
        if (mod != 3 && reg < 4)
            return dec_mk(X86K_NOP_HINT, DI_NONE, DA_MODRM, VMP_FEAT_SSE, 0);
        return dec_mk(X86K_NOP_HINT, DI_NONE, DA_MODRM, NOF, 0);
    case 0xae: /* group 15 */
        if (mod != 3) {
            if (pfx == DP_66) {
                if (reg == 7) /* CLFLUSHOPT */
                    return dec_mk(X86K_COPY, DI_NONE, DA_MODRM, VMP_FEAT_CLFLUSHOPT, MR);
                return dec_ud();
            }
            if (pfx != DP_NP)
                return dec_ud();
            switch (reg) {
            case 0:
                return dec_mk(X86K_FXSAVE, DI_NONE, DA_MODRM, VMP_FEAT_FXSR,
                              MW | X86F_X87 | X86F_SSE | X86F_SETS_TS_TRAP);
            case 1:
                return dec_mk(X86K_FXRSTOR, DI_NONE, DA_MODRM, VMP_FEAT_FXSR,
                              MR | X86F_X87 | X86F_SSE | X86F_SETS_TS_TRAP);
            case 2:
                return dec_mk(X86K_LDMXCSR, DI_NONE, DA_MODRM, VMP_FEAT_SSE,
                              MR | X86F_SSE | X86F_SETS_TS_TRAP);
            case 3:
                return dec_mk(X86K_STMXCSR, DI_NONE, DA_MODRM, VMP_FEAT_SSE,
                              MW | X86F_SSE | X86F_SETS_TS_TRAP);
            case 4:
            case 6: /* XSAVE XSAVEOPT */
                return dec_mk(X86K_XSAVE_FAMILY, DI_NONE, DA_MODRM, VMP_FEAT_XSAVE,
                              MW | X86F_X87 | X86F_SSE | X86F_SETS_TS_TRAP);
            case 5: /* XRSTOR */
                return dec_mk(X86K_XSAVE_FAMILY, DI_NONE, DA_MODRM, VMP_FEAT_XSAVE,
                              MR | X86F_X87 | X86F_SSE | X86F_SETS_TS_TRAP);
            default: /* CLFLUSH: a memory operand, copied like any other */
                return dec_mk(X86K_COPY, DI_NONE, DA_MODRM, VMP_FEAT_CLFSH, MR);
            }
        }
        /* mod = 3: F3 forms are RDFSBASE.. (64-bit only), PTWRITE, CET: #UD */
        if (pfx != DP_NP || reg < 5)
            return dec_ud();
        return dec_mk(X86K_FENCE, DI_NONE, DA_MODRM, reg == 7 ? VMP_FEAT_SSE : VMP_FEAT_SSE2, 0);
    case 0xba: /* group 8: BT BTS BTR BTC Ev,Ib */
        if (reg < 4)
            return dec_ud();
        if (reg == 4)
            return dec_mk(X86K_COPY, DI_B, DA_MODRM, NOF, MR | WF);
        return dec_mk(X86K_COPY, DI_B, DA_MODRM | DA_LOCK, NOF, MRW | WF);
    case 0xc7: /* group 9 */
        if (mod != 3) {
            if (reg == 1) /* CMPXCHG8B m64: 66, F2, F3 are ignored */
                return dec_mk(X86K_COPY, DI_NONE, DA_MODRM | DA_LOCK, VMP_FEAT_CX8, MRW | WF);
            return dec_ud(); /* XRSTORS XSAVEC XSAVES, VMX */
        }
        /* RDRAND RDSEED; F3 /7 RDPID is not decoded */
        if ((reg == 6 || reg == 7) && (pfx == DP_NP || pfx == DP_66))
            return dec_mk(X86K_RDRAND, DI_NONE, DA_MODRM,
                          reg == 6 ? VMP_FEAT_RDRAND : VMP_FEAT_RDSEED, WF);
        return dec_ud();
    default:
        return dec_ud();
    }
}

static const struct dec_entry *dec_sse_find(unsigned map, unsigned opc, unsigned pfx, unsigned reg)
{
    for (unsigned i = 0; i < dec_sse_count; i++) {
        const struct dec_sse *s = &dec_sse_list[i];
        if (s->map == map && s->opcode == opc && s->pfx == pfx &&
            (s->reg == 0 || s->reg == reg + 1))
            return &s->e;
    }
    return NULL;
}

static const uint8_t dec_pfx_byte[4] = {0, 0x66, 0xf3, 0xf2};

static int dec_modrm(struct dec_state *st, struct x86_insn *out, int regonly)
{
    uint8_t m;
    int rc = dec_fetch(st, &m);
    if (rc != X86_DEC_OK)
        return rc;
    out->flags |= X86F_MODRM;
    out->modrm = m;
    out->modrm_off = (uint8_t)(st->pos - 1);
    out->mod = m >> 6;
    out->reg = (m >> 3) & 7;
    out->rm = m & 7;
    /* MOV CR/DR: mod is ignored and the operand is a register (SDM 2B MOV) */
    if (regonly)
        out->mod = 3;
    if (out->mod == 3)
        return X86_DEC_OK;

    unsigned disp = 0;
    if (out->addrsize == 4) {
        /* SDM 2A table 2-2 and 2-3 */
        if (out->rm == 4) {
            uint8_t sib;
            rc = dec_fetch(st, &sib);
            if (rc != X86_DEC_OK)
                return rc;
            out->sib = sib;
            out->sib_off = (uint8_t)(st->pos - 1);
            if (out->mod == 0 && (sib & 7) == 5)
                disp = 4;
        }
        if (out->mod == 0 && out->rm == 5)
            disp = 4;
        else if (out->mod == 1)
            disp = 1;
        else if (out->mod == 2)
            disp = 4;
    } else {
        /* SDM 2A table 2-1: no SIB; mod=00 rm=110 is [disp16] */
        if (out->mod == 0 && out->rm == 6)
            disp = 2;
        else if (out->mod == 1)
            disp = 1;
        else if (out->mod == 2)
            disp = 2;
    }
    if (disp) {
        uint32_t v;
        out->disp_off = (uint8_t)st->pos;
        out->disp_size = (uint8_t)disp;
        rc = dec_fetch_le(st, disp, &v);
        if (rc != X86_DEC_OK)
            return rc;
        if (disp == 1)
            out->disp = (int8_t)v;
        else if (disp == 2)
            out->disp = (int16_t)v;
        else
            out->disp = (int32_t)v;
    }
    out->flags |= X86F_MEM;
    return X86_DEC_OK;
}

static int dec_imm(struct dec_state *st, struct x86_insn *out, unsigned imm)
{
    unsigned size = 0, size2 = 0;
    switch (imm) {
    case DI_NONE:
        return X86_DEC_OK;
    case DI_B:
        size = 1;
        break;
    case DI_W:
        size = 2;
        break;
    case DI_Z:
        size = out->opsize == 2 ? 2 : 4;
        break;
    case DI_AP: /* offset, then the 16-bit selector */
        size = out->opsize == 2 ? 2 : 4;
        size2 = 2;
        break;
    case DI_WB:
        size = 2;
        size2 = 1;
        break;
    case DI_MOFFS:
        size = out->addrsize;
        break;
    default:
        return X86_DEC_UD;
    }
    out->imm_off = (uint8_t)st->pos;
    int rc = dec_fetch_le(st, size, &out->imm);
    if (rc != X86_DEC_OK)
        return rc;
    if (size2) {
        rc = dec_fetch_le(st, size2, &out->imm2);
        if (rc != X86_DEC_OK)
            return rc;
    }
    if (imm == DI_AP) {
        out->imm_size = (uint8_t)(size + size2);
    } else {
        out->imm_size = (uint8_t)size;
        out->imm2_size = (uint8_t)size2;
    }
    return X86_DEC_OK;
}

int x86_decode(const uint8_t *bytes, size_t avail, int default32, struct x86_insn *out)
{
    struct dec_state st = {bytes, avail, 0};
    int has66 = 0, has67 = 0, lock = 0, rc;
    uint8_t b;

    memset(out, 0, sizeof *out);
    out->seg = X86_SEG_NONE;
    out->kind = X86K_INVALID;
    out->feature = VMP_FEAT_NONE;
    out->feature2 = VMP_FEAT_NONE;

    /* Legacy prefixes, any number and order (SDM 2A 2.1.1). */
    for (;;) {
        rc = dec_fetch(&st, &b);
        if (rc != X86_DEC_OK)
            goto out;
        if (!(dec_map1[b].attr & DA_PREFIX))
            break;
        switch (b) {
        case 0x26:
            out->seg = X86_SEG_ES;
            break;
        case 0x2e:
            out->seg = X86_SEG_CS;
            break;
        case 0x36:
            out->seg = X86_SEG_SS;
            break;
        case 0x3e:
            out->seg = X86_SEG_DS;
            break;
        case 0x64:
            out->seg = X86_SEG_FS;
            break;
        case 0x65:
            out->seg = X86_SEG_GS;
            break;
        case 0x66:
            has66 = 1;
            break;
        case 0x67:
            has67 = 1;
            break;
        case 0xf0:
            lock = 1;
            break;
        default: /* F2, F3: the last one counts */
            out->rep = b;
            break;
        }
    }
    out->prefix_len = (uint8_t)(st.pos - 1);
    out->opc_off = out->prefix_len;
    out->opsize = (uint8_t)((!default32) ^ has66 ? 2 : 4);
    out->addrsize = (uint8_t)((!default32) ^ has67 ? 2 : 4);

    /* Mandatory prefix for prefix-selected opcodes (SDM 2A 2.1.2):
     * F2/F3 take precedence over 66. */
    unsigned pfx = out->rep == 0xf3 ? DP_F3 : out->rep == 0xf2 ? DP_F2 : has66 ? DP_66 : DP_NP;

    struct dec_entry e;
    out->map = X86_MAP_1;
    out->opcode = b;
    if (b == 0x0f) {
        rc = dec_fetch(&st, &b);
        if (rc != X86_DEC_OK)
            goto out;
        out->map = X86_MAP_0F;
        out->opcode = b;
        if (b == 0x38 || b == 0x3a) {
            out->map = b == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
            rc = dec_fetch(&st, &b);
            if (rc != X86_DEC_OK)
                goto out;
            out->opcode = b;
            e = dec_mk(0, DI_NONE, DA_SSE | DA_MODRM, NOF, 0);
        } else {
            e = dec_map0f[b];
        }
    } else {
        e = dec_map1[b];
    }
    if ((e.attr & DA_UD) || (e.kind == X86K_INVALID && !(e.attr & (DA_GROUP | DA_SSE)))) {
        rc = X86_DEC_UD;
        goto out;
    }

    if (e.attr & DA_MODRM) {
        rc = dec_modrm(&st, out, (e.attr & DA_MODRM_REG) != 0);
        if (rc != X86_DEC_OK)
            goto out;
    }
    if (e.attr & DA_REG3)
        out->reg = out->opcode & 7;

    /* Resolve groups and prefix-selected opcodes now that ModRM is known. */
    if (e.attr & DA_SSE) {
        const struct dec_entry *s = dec_sse_find(out->map, out->opcode, pfx, out->reg);
        if (s && pfx != DP_NP)
            out->mandatory = dec_pfx_byte[pfx];
        /* The integer opcodes in this space (BSF, BSR, MOVBE) take 66 as
         * the operand-size prefix and ignore F2, as elsewhere (checked on
         * the host by test_decode_oracle). */
        if (!s && (pfx == DP_66 || pfx == DP_F2) &&
            ((out->map == X86_MAP_0F && (out->opcode == 0xbc || out->opcode == 0xbd)) ||
             (out->map == X86_MAP_0F38 && (out->opcode == 0xf0 || out->opcode == 0xf1))))
            s = dec_sse_find(out->map, out->opcode, DP_NP, out->reg);
        if (!s) {
            rc = X86_DEC_UD;
            goto out;
        }
        e = *s;
    } else if (e.attr & DA_GROUP) {
        if (out->map == X86_MAP_1) {
            e = dec_group1(out->opcode, out->modrm, e.imm);
            if (out->opcode == 0x82)
                e.flags |= X86F_NO64; /* #UD in 64-bit mode */
        } else {
            e = dec_group0f(out->opcode, out->modrm, pfx);
        }
    }
    if (e.attr & DA_UD) {
        rc = X86_DEC_UD;
        goto out;
    }

    int mem = (out->flags & X86F_MEM) != 0;
    if (((e.attr & DA_MEMONLY) && !mem) || ((e.attr & DA_REGONLY) && mem)) {
        rc = X86_DEC_UD;
        goto out;
    }
    /* SDM 2A LOCK: #UD unless the instruction is lockable and its
     * destination is memory. */
    if (lock) {
        if (!(e.attr & DA_LOCK) || !mem) {
            rc = X86_DEC_UD;
            goto out;
        }
        out->flags |= X86F_LOCK;
    }

    /* Per-instruction ModRM.reg constraints of non-group opcodes. */
    if (out->map == X86_MAP_0F && out->opcode == 0x77 && pfx != DP_NP)
        rc = X86_DEC_UD; /* EMMS: 66 0F 77, F3 0F 77, F2 0F 77 are #UD */
    if (out->map == X86_MAP_1) {
        if (out->opcode == 0x8c && out->reg > 5) /* MOV Ev,Sw */
            rc = X86_DEC_UD;
        if (out->opcode == 0x8e && (out->reg > 5 || out->reg == 1)) /* MOV Sw,Ew: not CS */
            rc = X86_DEC_UD;
    } else if (out->map == X86_MAP_0F) {
        /* MOV CR: CR0 CR2 CR3 CR4 (CR8 needs REX, 64-bit mode only) */
        if ((out->opcode == 0x20 || out->opcode == 0x22) && (out->reg == 1 || out->reg > 4))
            rc = X86_DEC_UD;
    }
    if (rc != X86_DEC_OK)
        goto out;

    if (e.attr & DA_BYTE)
        out->opsize = 1;
    else if (e.attr & DA_OP16)
        out->opsize = 2;
    else if (e.attr & DA_OP32)
        out->opsize = 4;
    else if (out->mandatory == 0x66)
        out->opsize = 4;
    /* MOV Ev,Sw, SLDT and STR store 16 bits to memory whatever the
     * operand size (SDM 2B MOV, SLDT, STR) */
    if (mem && ((out->map == X86_MAP_1 && out->opcode == 0x8c) ||
                (out->map == X86_MAP_0F && out->opcode == 0x00 && out->reg < 2)))
        out->opsize = 2;

    rc = dec_imm(&st, out, e.imm);
    if (rc != X86_DEC_OK)
        goto out;

    uint32_t flags = e.flags;
    if (!mem && !(flags & X86F_IMPLICIT_MEM))
        flags &= ~(uint32_t)(X86F_MEM_READ | X86F_MEM_WRITE);
    out->flags |= flags;
    if (out->opsize == 1)
        out->flags |= X86F_BYTE_OP;
    if ((e.attr & DA_STR) && out->rep)
        out->flags |= out->rep == 0xf3 ? X86F_REP : X86F_REPNE;
    out->kind = e.kind;
    if (out->kind == X86K_COPY && mem)
        out->kind = X86K_COPY_MEM;
    out->feature = e.feat;
    out->feature2 = e.feat2;
    if (out->map == X86_MAP_1 && out->opcode == 0x90 && out->rep == 0xf3)
        out->feature = VMP_FEAT_NONE; /* PAUSE: a NOP on older processors */
    if (out->kind == X86K_UD)         /* UD0 UD1 UD2: fully decoded, but #UD */
        rc = X86_DEC_UD;

out:
    out->len = (uint8_t)st.pos;
    if (rc != X86_DEC_OK && rc != X86_DEC_UD)
        out->kind = X86K_INVALID;
    return rc;
}

const char *x86_kind_name(unsigned kind)
{
    static const char *const names[X86K_COUNT] = {
        [X86K_INVALID] = "INVALID",
        [X86K_COPY] = "COPY",
        [X86K_COPY_MEM] = "COPY_MEM",
        [X86K_LEA] = "LEA",
        [X86K_NOP_HINT] = "NOP_HINT",
        [X86K_INCDEC_REG] = "INCDEC_REG",
        [X86K_XLAT] = "XLAT",
        [X86K_MOFFS] = "MOFFS",
        [X86K_PUSH] = "PUSH",
        [X86K_POP] = "POP",
        [X86K_PUSH_SEG] = "PUSH_SEG",
        [X86K_POP_SEG] = "POP_SEG",
        [X86K_PUSHA] = "PUSHA",
        [X86K_POPA] = "POPA",
        [X86K_PUSHF] = "PUSHF",
        [X86K_POPF] = "POPF",
        [X86K_ENTER] = "ENTER",
        [X86K_LEAVE] = "LEAVE",
        [X86K_JMP_REL] = "JMP_REL",
        [X86K_JCC] = "JCC",
        [X86K_JCXZ] = "JCXZ",
        [X86K_LOOP] = "LOOP",
        [X86K_CALL_REL] = "CALL_REL",
        [X86K_JMP_IND] = "JMP_IND",
        [X86K_CALL_IND] = "CALL_IND",
        [X86K_RET] = "RET",
        [X86K_JMP_FAR] = "JMP_FAR",
        [X86K_CALL_FAR] = "CALL_FAR",
        [X86K_RET_FAR] = "RET_FAR",
        [X86K_IRET] = "IRET",
        [X86K_INT] = "INT",
        [X86K_INT3] = "INT3",
        [X86K_INT1] = "INT1",
        [X86K_INTO] = "INTO",
        [X86K_BOUND] = "BOUND",
        [X86K_SYSENTER] = "SYSENTER",
        [X86K_SYSEXIT] = "SYSEXIT",
        [X86K_SYSCALL] = "SYSCALL",
        [X86K_SYSRET] = "SYSRET",
        [X86K_HLT] = "HLT",
        [X86K_UD] = "UD",
        [X86K_STRING] = "STRING",
        [X86K_INS] = "INS",
        [X86K_OUTS] = "OUTS",
        [X86K_IN] = "IN",
        [X86K_OUT] = "OUT",
        [X86K_CLI] = "CLI",
        [X86K_STI] = "STI",
        [X86K_CPUID] = "CPUID",
        [X86K_RDTSC] = "RDTSC",
        [X86K_RDTSCP] = "RDTSCP",
        [X86K_RDPMC] = "RDPMC",
        [X86K_RDMSR] = "RDMSR",
        [X86K_WRMSR] = "WRMSR",
        [X86K_MOV_CR] = "MOV_CR",
        [X86K_MOV_DR] = "MOV_DR",
        [X86K_CLTS] = "CLTS",
        [X86K_INVD] = "INVD",
        [X86K_WBINVD] = "WBINVD",
        [X86K_INVLPG] = "INVLPG",
        [X86K_SYS_0F00] = "SYS_0F00",
        [X86K_SYS_0F01] = "SYS_0F01",
        [X86K_LAR] = "LAR",
        [X86K_LSL] = "LSL",
        [X86K_MOV_FROM_SEG] = "MOV_FROM_SEG",
        [X86K_MOV_TO_SEG] = "MOV_TO_SEG",
        [X86K_LOAD_FARPTR] = "LOAD_FARPTR",
        [X86K_ARPL] = "ARPL",
        [X86K_BCD] = "BCD",
        [X86K_SALC] = "SALC",
        [X86K_SAHF_LAHF] = "SAHF_LAHF",
        [X86K_FENCE] = "FENCE",
        [X86K_FXSAVE] = "FXSAVE",
        [X86K_FXRSTOR] = "FXRSTOR",
        [X86K_LDMXCSR] = "LDMXCSR",
        [X86K_STMXCSR] = "STMXCSR",
        [X86K_XSAVE_FAMILY] = "XSAVE_FAMILY",
        [X86K_RSM] = "RSM",
        [X86K_MONITOR] = "MONITOR",
        [X86K_MWAIT] = "MWAIT",
        [X86K_RDRAND] = "RDRAND",
        [X86K_MASKMOV] = "MASKMOV",
    };
    if (kind >= X86K_COUNT || !names[kind])
        return "?";
    return names[kind];
}
