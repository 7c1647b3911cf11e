/*
 * dt_cmp.c - result comparison for the differential tester (dt_cmp.h).
 */
#include "dt_cmp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const cmp_regs[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

static const char *cmp_vector_name(uint32_t v)
{
    static const char *const names[20] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                          "#DF", "#MF?", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
                                          "#MF", "#AC", "#MC", "#XM"};
    if (v < 20)
        return names[v];
    if (v >= 0x100 && v < 0x200)
        return "INT n";
    return "exit";
}

void dt_result_str(const struct dt_result *r, char *out, size_t outlen)
{
    switch (r->status) {
    case DT_ST_INT3:
        snprintf(out, outlen, "INT3, eip 0x%08x", r->fin.eip);
        break;
    case DT_ST_EXC:
        if (r->vector == 14)
            snprintf(out, outlen, "%s (vector %u) at eip 0x%08x, cr2 0x%08x, error code 0x%x",
                     cmp_vector_name(r->vector), r->vector, r->fin.eip, r->cr2, r->error_code);
        else
            snprintf(out, outlen, "%s (vector %u) at eip 0x%08x%s%s", cmp_vector_name(r->vector),
                     r->vector, r->fin.eip, r->msg[0] ? ": " : "", r->msg);
        break;
    case DT_ST_TIMEOUT:
        snprintf(out, outlen, "timeout%s%s", r->msg[0] ? ": " : "", r->msg);
        break;
    case DT_ST_CRASH:
        snprintf(out, outlen, "CRASH: %s", r->msg);
        break;
    case DT_ST_ERROR:
        snprintf(out, outlen, "setup error: %s", r->msg);
        break;
    case DT_ST_REFUSED:
        snprintf(out, outlen, "translator error: %s", r->msg);
        break;
    default:
        snprintf(out, outlen, "no result");
        break;
    }
}

struct cmp_out {
    char *p;
    size_t left;
    unsigned n;
};

static void cmp_say(struct cmp_out *o, const char *fmt, ...)
{
    va_list ap;
    int k;
    va_start(ap, fmt);
    k = vsnprintf(o->p, o->left, fmt, ap);
    va_end(ap);
    if (k > 0 && (size_t)k < o->left) {
        o->p += k;
        o->left -= (size_t)k;
    }
}

static void cmp_hex(struct cmp_out *o, const uint8_t *p, unsigned n)
{
    unsigned i;
    for (i = n; i-- > 0;)
        cmp_say(o, "%02x", p[i]);
}

static void cmp_bytes(struct cmp_out *o, const char *what, const uint8_t *a, const uint8_t *b,
                      unsigned n)
{
    if (memcmp(a, b, n) == 0)
        return;
    o->n++;
    cmp_say(o, "  %-6s native ", what);
    cmp_hex(o, a, n);
    cmp_say(o, "  translated ");
    cmp_hex(o, b, n);
    cmp_say(o, "\n");
}

unsigned dt_compare(const uint8_t *a, const uint8_t *b, uint32_t undef_end, uint32_t undef_exc,
                    char *out, size_t outlen)
{
    const struct dt_case *c = (const struct dt_case *)a;
    const struct dt_result *ra = (const struct dt_result *)(a + DT_RESULT_OFF);
    const struct dt_result *rb = (const struct dt_result *)(b + DT_RESULT_OFF);
    struct cmp_out o = {out, outlen, 0};
    char sa[200], sb[200];
    uint32_t fmask = DT_EFLAGS_COMPARED & ~(ra->status == DT_ST_EXC ? undef_exc : undef_end);
    unsigned i, r;

    out[0] = 0;
    dt_result_str(ra, sa, sizeof sa);
    dt_result_str(rb, sb, sizeof sb);
    if (ra->status != rb->status || (ra->status == DT_ST_EXC && ra->vector != rb->vector) ||
        (ra->status == DT_ST_EXC && ra->vector == 14 && ra->cr2 != rb->cr2) ||
        ra->fin.eip != rb->fin.eip) {
        o.n++;
        cmp_say(&o, "  end    native %s\n         translated %s\n", sa, sb);
        if (ra->status != rb->status || ra->status > DT_ST_EXC)
            return o.n;
    }
    if (ra->status > DT_ST_EXC)
        return o.n + 1;
    for (i = 0; i < 8; i++)
        if (ra->fin.gpr[i] != rb->fin.gpr[i]) {
            o.n++;
            cmp_say(&o, "  %-6s native %08x  translated %08x\n", cmp_regs[i], ra->fin.gpr[i],
                    rb->fin.gpr[i]);
        }
    if ((ra->fin.eflags ^ rb->fin.eflags) & fmask) {
        o.n++;
        cmp_say(&o, "  eflags native %08x  translated %08x  (compared bits %03x)\n", ra->fin.eflags,
                rb->fin.eflags, fmask);
    }
    if (ra->fin.fs_sel != rb->fin.fs_sel || ra->fin.gs_sel != rb->fin.gs_sel) {
        o.n++;
        cmp_say(&o, "  fs/gs  native %04x/%04x  translated %04x/%04x\n", ra->fin.fs_sel,
                ra->fin.gs_sel, rb->fin.fs_sel, rb->fin.gs_sel);
    }
    cmp_bytes(&o, "fcw", ra->fin.fx + DT_FX_FCW, rb->fin.fx + DT_FX_FCW, 2);
    cmp_bytes(&o, "fsw", ra->fin.fx + DT_FX_FSW, rb->fin.fx + DT_FX_FSW, 2);
    cmp_bytes(&o, "ftw", ra->fin.fx + DT_FX_FTW, rb->fin.fx + DT_FX_FTW, 1);
    cmp_bytes(&o, "mxcsr", ra->fin.fx + DT_FX_MXCSR, rb->fin.fx + DT_FX_MXCSR, 4);
    for (i = 0; i < 8; i++) {
        char name[8];
        snprintf(name, sizeof name, "st%u", i);
        cmp_bytes(&o, name, ra->fin.fx + DT_FX_ST0 + 16 * i, rb->fin.fx + DT_FX_ST0 + 16 * i, 10);
    }
    for (i = 0; i < 8; i++) {
        char name[8];
        snprintf(name, sizeof name, "xmm%u", i);
        cmp_bytes(&o, name, ra->fin.fx + DT_FX_XMM0 + 16 * i, rb->fin.fx + DT_FX_XMM0 + 16 * i, 16);
    }
    for (r = 0; r < c->nregions; r++) {
        const struct dt_region *reg = &c->region[r];
        const uint8_t *ma = a + reg->fin_off, *mb = b + reg->fin_off;
        unsigned shown = 0;
        if (memcmp(ma, mb, reg->size_bytes) == 0)
            continue;
        for (i = 0; i < reg->size_bytes; i++) {
            if (ma[i] == mb[i])
                continue;
            if (shown++ == 0)
                o.n++;
            if (shown <= 8)
                cmp_say(&o, "  mem    %08x native %02x  translated %02x\n", reg->gla + i, ma[i], mb[i]);
        }
        if (shown > 8)
            cmp_say(&o, "  mem    ... %u bytes differ in the region at %08x\n", shown, reg->gla);
    }
    return o.n;
}
