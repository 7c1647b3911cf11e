/*
 * difftest.c - the differential tester: random 32-bit x86 sequences run
 * natively on the host CPU (difftest-native, a 32-bit process) and under
 * the translator (vmm/cpu), with registers, flags, FPU/SSE state and
 * memory compared; then the chosen cases (dt_chosen.c).
 *
 *   difftest --seed N --count N [--time-limit S] [--profile P]
 *            [--category C[,C...]] [--exclude-category C[,C...]]
 *            [--max-items N] [--replay HEX] [--chosen NAME|all|none]
 *            [--reference native] [--selftest] [--native PATH] [-v]
 *
 * A mismatch is shrunk (groups of items, then items, deleted while it
 * remains) and printed with its bytes, disassembly, initial state, the
 * differences and a command line that replays it. The last line is
 *   difftest: N sequences, M mismatches, seed S
 * and the exit status is 0 only when nothing mismatched.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dt_cmp.h"
#include "dt_gen.h"
#include "dt_run.h"

#ifdef DT_HAVE_XLAT
#include "decode.h"
#include <vmpack/profile.h>
#endif

/* ---- building and running one case ------------------------------------ */

static uint32_t run_add_region(struct dt_case *c, uint32_t *off, uint32_t gla, uint32_t size,
                               uint32_t prot)
{
    struct dt_region *r = &c->region[c->nregions++];
    r->gla = gla;
    r->size_bytes = size;
    r->prot = prot;
    r->init_off = *off;
    r->fin_off = *off + size;
    *off += 2 * size;
    return r->init_off;
}

void dt_build_case(uint8_t *xchg, const struct dt_init *init, const uint8_t *code, unsigned code_len,
                   unsigned code_prot, unsigned low_prot)
{
    struct dt_case *c = (struct dt_case *)xchg;
    uint32_t off = DT_DATA_OFF, at;

    memset(c, 0, sizeof *c);
    c->magic = DT_CASE_MAGIC;
    c->timeout_ms = 3000;
    at = run_add_region(c, &off, DT_LOW_GLA, DT_LOW_BYTES, low_prot);
    memcpy(xchg + at, init->low, DT_LOW_BYTES);
    at = run_add_region(c, &off, DT_CODE_GLA, DT_CODE_BYTES, code_prot);
    memset(xchg + at, 0xcc, DT_CODE_BYTES);
    memcpy(xchg + at, code, code_len);
    at = run_add_region(c, &off, DT_DATA_GLA, DT_DATA_BYTES, PROT_READ | PROT_WRITE);
    memcpy(xchg + at, init->data, DT_DATA_BYTES);
    at = run_add_region(c, &off, DT_STACK_GLA, DT_STACK_BYTES, PROT_READ | PROT_WRITE);
    memcpy(xchg + at, init->stack, DT_STACK_BYTES);
    c->init = init->cpu;
}

static uint32_t run_used_bytes(const uint8_t *xchg)
{
    const struct dt_case *c = (const struct dt_case *)xchg;
    uint32_t end = DT_DATA_OFF, i;
    for (i = 0; i < c->nregions; i++)
        if (c->region[i].fin_off + c->region[i].size_bytes > end)
            end = c->region[i].fin_off + c->region[i].size_bytes;
    return end;
}

/* Self-test: change one thing in side b's input, so a comparison that
 * works must see a difference at least sometimes. */
static void run_perturb(struct dt_ctx *ctx, uint8_t *xb)
{
    struct dt_case *c = (struct dt_case *)xb;
    uint64_t z = dt_case_seed(ctx->perturb_seed++, 7);
    switch (z % 4) {
    case 0: /* a register bit */
        c->init.gpr[(z >> 8) % 8 == 4 ? 0 : (z >> 8) % 8] ^= 1u << ((z >> 16) % 32);
        break;
    case 1: /* an xmm byte */
        c->init.fx[DT_FX_XMM0 + (z >> 8) % 128] ^= 0x10;
        break;
    case 2: { /* a data byte */
        const struct dt_region *r = &c->region[2];
        xb[r->init_off + (z >> 8) % r->size_bytes] ^= 0x01;
        break;
    }
    default: /* the carry flag */
        c->init.eflags ^= 1u;
        break;
    }
}

int dt_run_built(struct dt_ctx *ctx, uint32_t undef_end, uint32_t undef_exc, char *diff,
                 unsigned difflen)
{
    uint8_t *xa = dt_worker_case(&ctx->a), *xb = dt_worker_case(&ctx->b);
    const struct dt_result *ra = (const struct dt_result *)(xa + DT_RESULT_OFF);
    const struct dt_result *rb = (const struct dt_result *)(xb + DT_RESULT_OFF);
    char local[4096];
    unsigned n;

    ((struct dt_case *)xa)->timeout_ms = ctx->timeout_ms;
    memcpy(xb, xa, run_used_bytes(xa));
    if (ctx->perturb)
        run_perturb(ctx, xb);
    dt_worker_go(&ctx->a);
    dt_worker_go(&ctx->b);
    if (dt_worker_wait(&ctx->a, (int)ctx->timeout_ms + 2000) != 0 ||
        dt_worker_wait(&ctx->b, (int)ctx->timeout_ms + 2000) != 0) {
        fprintf(stderr, "difftest: cannot restart a worker: %s%s\n", ctx->a.errmsg, ctx->b.errmsg);
        return DT_HARNESS_ERROR;
    }
    if (ra->status == DT_ST_ERROR || rb->status == DT_ST_ERROR || ra->status == DT_ST_CRASH ||
        ra->status == DT_ST_NONE) {
        fprintf(stderr, "difftest: harness error: native: %s; translated: %s\n", ra->msg, rb->msg);
        return DT_HARNESS_ERROR;
    }
    if (!diff) {
        diff = local;
        difflen = sizeof local;
    }
    n = dt_compare(xa, xb, undef_end, undef_exc, diff, difflen);
    return n ? DT_MISMATCH : DT_MATCH;
}

/* ---- reports ------------------------------------------------------------- */

void dt_print_code(const uint8_t *code, unsigned len)
{
    char path[] = "/tmp/difftest-code-XXXXXX";
    unsigned i;
    int fd;

    printf("  bytes:");
    for (i = 0; i < len; i++)
        printf(" %02x", code[i]);
    printf("\n");
    fd = mkstemp(path);
    if (fd >= 0) {
        char cmd[256];
        FILE *p;
        if (write(fd, code, len) == (ssize_t)len) {
            snprintf(cmd, sizeof cmd,
                     "objdump -D -b binary -mi386 --adjust-vma=0x%x %s 2>/dev/null", DT_CODE_GLA, path);
            p = popen(cmd, "r");
            if (p) {
                char line[256];
                int body = 0;
                while (fgets(line, sizeof line, p)) {
                    if (strstr(line, "<.data>:")) {
                        body = 1;
                        continue;
                    }
                    if (body && line[0] != '\n')
                        printf("  %s", line);
                }
                pclose(p);
            }
        }
        close(fd);
        unlink(path);
    }
#ifdef DT_HAVE_XLAT
    {
        unsigned off = 0;
        printf("  decoder:");
        while (off < len) {
            struct x86_insn in;
            int rc = x86_decode(code + off, len - off, 1, &in);
            if (rc != X86_DEC_OK) {
                printf(" [%x: status %d]", DT_CODE_GLA + off, rc);
                break;
            }
            printf(" %s", x86_kind_name(in.kind));
            off += in.len;
        }
        printf("\n");
    }
#endif
}

static void run_print_init(const struct dt_init *init)
{
    static const char *const regs[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    unsigned i;
    printf("  initial:");
    for (i = 0; i < 8; i++)
        printf(" %s=%08x", regs[i], init->cpu.gpr[i]);
    printf("\n           eflags=%08x fs.base=%08x gs.base=%08x fcw=%02x%02x mxcsr=%02x%02x%02x%02x\n",
           init->cpu.eflags, init->cpu.fs_base, init->cpu.gs_base, init->cpu.fx[1], init->cpu.fx[0],
           init->cpu.fx[27], init->cpu.fx[26], init->cpu.fx[25], init->cpu.fx[24]);
}

/* ---- random sequences ------------------------------------------------------ */

struct run_sig {
    uint32_t sa, sb, vb;
};

static void run_sig_of(struct dt_ctx *ctx, struct run_sig *s)
{
    const struct dt_result *ra = (const struct dt_result *)(dt_worker_case(&ctx->a) + DT_RESULT_OFF);
    const struct dt_result *rb = (const struct dt_result *)(dt_worker_case(&ctx->b) + DT_RESULT_OFF);
    s->sa = ra->status;
    s->sb = rb->status;
    s->vb = rb->vector;
}

static int run_seq(struct dt_ctx *ctx, const struct dt_init *init, const struct dt_seq *seq,
                   char *diff, unsigned difflen)
{
    static uint8_t code[DT_CODE_BYTES];
    unsigned len = dt_seq_layout(seq, code, sizeof code);
    if (len == 0)
        return DT_MATCH; /* cannot be laid out (a shrink step broke a rel8): not a case */
    dt_build_case(dt_worker_case(&ctx->a), init, code, len,
                  PROT_READ | PROT_EXEC | (seq->smc ? PROT_WRITE : 0), PROT_READ | PROT_WRITE);
    return dt_run_built(ctx, dt_seq_undef(seq), dt_seq_undef_any(seq) | dt_seq_undef(seq), diff, difflen);
}

/* Deletes groups, then single items, while the same kind of mismatch stays. */
static void run_shrink(struct dt_ctx *ctx, const struct dt_init *init, struct dt_seq *seq)
{
    static struct dt_seq trial;
    struct run_sig want, got;
    int progress = 1, rounds = 0;
    unsigned i;

    run_seq(ctx, init, seq, NULL, 0);
    run_sig_of(ctx, &want);
    while (progress && rounds++ < 8) {
        progress = 0;
        for (i = seq->n; i-- > 0;) {
            unsigned end = i + 1, k;
            if (!seq->item[i].group && i > 0 && rounds <= 2)
                continue; /* first whole groups: from a group start to the next */
            while (rounds <= 2 && end < seq->n && !seq->item[end].group)
                end++;
            trial = *seq;
            for (k = i; k < end; k++)
                dt_seq_delete(&trial, i);
            if (!dt_seq_valid(&trial))
                continue;
            if (run_seq(ctx, init, &trial, NULL, 0) != DT_MISMATCH)
                continue;
            run_sig_of(ctx, &got);
            if (memcmp(&got, &want, sizeof got) != 0)
                continue;
            *seq = trial;
            progress = 1;
            if (i > seq->n)
                i = seq->n;
        }
        if (!progress && rounds <= 2) {
            rounds = 2;
            progress = 1;
        }
    }
}

static void run_report(struct dt_ctx *ctx, uint64_t case_seed, uint64_t index, const struct dt_init *init,
                       struct dt_seq *seq, int shrink, const char *first_diff)
{
    static uint8_t code[DT_CODE_BYTES];
    static char diff[8192];
    unsigned n0 = seq->n, len, i;

    if (shrink)
        run_shrink(ctx, init, seq);
    len = dt_seq_layout(seq, code, sizeof code);
    if (run_seq(ctx, init, seq, diff, sizeof diff) != DT_MISMATCH) {
        printf("MISMATCH case %" PRIu64 " (case seed %" PRIu64 "): not reproducible after shrinking;"
               " the first run differed in:\n%s",
               index, case_seed, first_diff ? first_diff : "  (not kept)\n");
        return;
    }
    printf("MISMATCH case %" PRIu64 " (case seed %" PRIu64 "), %u of %u items after shrinking:",
           index, case_seed, seq->n, n0);
    for (i = 0; i < seq->n; i++)
        printf("%s %s", i ? ";" : "", seq->item[i].name);
    printf("\n");
    dt_print_code(code, len);
    run_print_init(init);
    printf("  differences:\n%s", diff);
    printf("  replay: difftest --seed %" PRIu64 " --replay ", case_seed);
    for (i = 0; i + 1 < len; i++) /* without the final INT3: replay adds it */
        printf("%02x", code[i]);
    printf("\n");
    if (ctx->profile)
        printf("          (with --profile %s)\n", ctx->profile);
    fflush(stdout);
}

/* ---- features ----------------------------------------------------------- */

static void run_features(struct dt_ctx *ctx)
{
    unsigned a, b, c, d;
    struct dt_features *f = &ctx->feat;

    memset(f, 0, sizeof *f);
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        f->cmov = (d >> 15) & 1;
        f->mmx = (d >> 23) & 1;
        f->sse = (d >> 25) & 1;
        f->sse2 = (d >> 26) & 1;
        f->sse3 = c & 1;
        f->ssse3 = (c >> 9) & 1;
        f->sse41 = (c >> 19) & 1;
        f->movbe = (c >> 22) & 1;
        f->popcnt = (c >> 23) & 1;
        f->fcomi = f->cmov && (d & 1);
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
        f->bmi1 = (b >> 3) & 1;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d))
        f->lzcnt = (c >> 5) & 1;
#ifdef DT_HAVE_XLAT
    if (!ctx->b_is_native) {
        /* what the guest's profile allows: the rest raises #UD there */
        struct vmp_cpu_profile p;
        int rc = ctx->profile ? vmp_profile_builtin(ctx->profile, &p) : vmp_profile_host(&p);
        if (rc == 0) {
            f->cmov &= vmp_profile_has(&p, VMP_FEAT_CMOV);
            f->fcomi &= vmp_profile_has(&p, VMP_FEAT_CMOV) & vmp_profile_has(&p, VMP_FEAT_FPU);
            f->mmx &= vmp_profile_has(&p, VMP_FEAT_MMX);
            f->sse &= vmp_profile_has(&p, VMP_FEAT_SSE);
            f->sse2 &= vmp_profile_has(&p, VMP_FEAT_SSE2);
            f->sse3 &= vmp_profile_has(&p, VMP_FEAT_SSE3);
            f->ssse3 &= vmp_profile_has(&p, VMP_FEAT_SSSE3);
            f->sse41 &= vmp_profile_has(&p, VMP_FEAT_SSE41);
            f->movbe &= vmp_profile_has(&p, VMP_FEAT_MOVBE);
            f->popcnt &= vmp_profile_has(&p, VMP_FEAT_POPCNT);
            f->bmi1 &= vmp_profile_has(&p, VMP_FEAT_BMI1);
            f->lzcnt &= vmp_profile_has(&p, VMP_FEAT_ABM);
        }
    }
#endif
}

/* Generated instructions the decoder refuses: decoder bugs (the host ran
 * them), reported but not counted as mismatches. */
static void run_check_decode(struct dt_ctx *ctx, const struct dt_seq *seq)
{
#ifdef DT_HAVE_XLAT
    unsigned i;
    for (i = 0; i < seq->n; i++) {
        const struct dt_item *it = &seq->item[i];
        unsigned off = 0;
        while (off < it->len) {
            struct x86_insn in;
            if (x86_decode(it->b + off, it->len - off, 1, &in) != X86_DEC_OK) {
                if (ctx->decode_rejects++ < 10) {
                    unsigned k;
                    printf("decoder refuses (%s):", it->name);
                    for (k = off; k < it->len && k < off + 15; k++)
                        printf(" %02x", it->b[k]);
                    printf("\n");
                }
                break;
            }
            off += in.len;
        }
    }
#else
    (void)ctx;
    (void)seq;
#endif
}

/* ---- main ------------------------------------------------------------------ */

static int run_hex(const char *hex, uint8_t *out, unsigned max, unsigned *len)
{
    unsigned n = 0;
    while (hex[0] && hex[1] && n < max) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1)
            return -1;
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    *len = n;
    return hex[0] ? -1 : 0;
}

static void run_usage(void)
{
    fprintf(stderr,
            "usage: difftest [--seed N] [--count N] [--time-limit S] [--profile P]\n"
            "                [--category C,...] [--exclude-category C,...] [--max-items N]\n"
            "                [--replay HEX] [--chosen NAME|all|none] [--reference native]\n"
            "                [--selftest] [--native PATH] [--max-reports N] [-v]\n"
            "                [--avoid limit-wrap|bt-reach|fsgs-unaligned-base|far-pointer-loads]\n"
            "                [--skip-chosen NAME,...] [--list]\n"
            "                [--kick-us N] [--code-cache-kb N] [--keep-cache yes]\n"
            "                [--tolerate-kick-livelock yes]\n"
            "categories: alu shift muldiv bits atomic flags stack string branch x87 sse seg smc all\n");
}

static int run_selftest(struct dt_ctx *ctx, uint64_t seed, unsigned cats)
{
    static struct dt_init init;
    static struct dt_seq seq;
    unsigned i, clean_mism = 0, pert_mism = 0, n_clean = 2000, n_pert = 400;

    /* 1: native against native agrees: the harness is deterministic and
     * the undefined-flag masks are right for the host */
    for (i = 0; i < n_clean; i++) {
        uint64_t cs = dt_case_seed(seed, i);
        int rc;
        dt_gen_init(cs, &init);
        dt_gen_seq(cs, &init, cats, &ctx->feat, 20, &seq);
        rc = run_seq(ctx, &init, &seq, NULL, 0);
        if (rc == DT_HARNESS_ERROR)
            return -1;
        if (rc == DT_MISMATCH) {
            if (clean_mism++ < 3)
                run_report(ctx, cs, i, &init, &seq, 1, NULL);
        }
    }
    /* 2: with side b's input perturbed, the comparison must notice */
    ctx->perturb = 1;
    ctx->perturb_seed = seed;
    for (i = 0; i < n_pert; i++) {
        uint64_t cs = dt_case_seed(seed ^ 0xabcdef, i);
        int rc;
        dt_gen_init(cs, &init);
        dt_gen_seq(cs, &init, cats, &ctx->feat, 20, &seq);
        rc = run_seq(ctx, &init, &seq, NULL, 0);
        if (rc == DT_HARNESS_ERROR)
            return -1;
        pert_mism += rc == DT_MISMATCH;
    }
    ctx->perturb = 0;
    printf("selftest: native vs native: %u of %u mismatched (want 0); perturbed: %u of %u detected "
           "(want > %u)\n",
           clean_mism, n_clean, pert_mism, n_pert, n_pert / 2);
    return clean_mism == 0 && pert_mism > n_pert / 2 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static char first_diff[8192];
    static struct dt_init init;
    static struct dt_seq seq;
    struct dt_ctx ctx;
    uint64_t seed = 0, count = 1000, i, done = 0, mismatches = 0, ends[34] = {0}, kicks = 0, livelocks = 0;
    double time_limit = 0;
    unsigned cats = DT_CAT_ALL, exclude = 0, max_items = 20, max_reports = 5, avoid = 0;
    const char *replay = NULL, *chosen = "all", *native = NULL;
    int have_seed = 0, selftest = 0, list = 0, tolerate_livelock = 0, harness_error = 0, chosen_failed = 0, a;
    char self_dir[4096], native_path[4200];
    struct timespec t0, t1;
    struct dt_xlat_opts xopts;

    memset(&ctx, 0, sizeof ctx);
    memset(&xopts, 0, sizeof xopts);
    ctx.timeout_ms = 3000; /* wall clock: generous, so a loaded host is not a mismatch */
    for (a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(arg, "-v")) {
            ctx.verbose = 1;
            continue;
        }
        if (!strcmp(arg, "--list")) {
            list = 1;
            continue;
        }
        if (!strcmp(arg, "--selftest")) {
            selftest = 1;
            ctx.b_is_native = 1;
            continue;
        }
        if (!val) {
            run_usage();
            return 2;
        }
        a++;
        if (!strcmp(arg, "--seed")) {
            seed = strtoull(val, NULL, 0);
            have_seed = 1;
        } else if (!strcmp(arg, "--count")) {
            count = strtoull(val, NULL, 0);
        } else if (!strcmp(arg, "--time-limit")) {
            time_limit = strtod(val, NULL);
        } else if (!strcmp(arg, "--profile")) {
            ctx.profile = strcmp(val, "host") ? val : NULL;
        } else if (!strcmp(arg, "--category")) {
            cats = dt_cat_parse(val);
        } else if (!strcmp(arg, "--exclude-category")) {
            exclude = dt_cat_parse(val);
            if (!exclude) {
                fprintf(stderr, "difftest: unknown category in %s\n", val);
                return 2;
            }
        } else if (!strcmp(arg, "--max-items")) {
            max_items = (unsigned)strtoul(val, NULL, 0);
        } else if (!strcmp(arg, "--replay")) {
            replay = val;
        } else if (!strcmp(arg, "--chosen")) {
            chosen = val;
        } else if (!strcmp(arg, "--skip-chosen")) {
            ctx.skip_chosen = val;
        } else if (!strcmp(arg, "--reference")) {
            if (strcmp(val, "native")) {
                run_usage();
                return 2;
            }
            ctx.b_is_native = 1;
        } else if (!strcmp(arg, "--native")) {
            native = val;
        } else if (!strcmp(arg, "--avoid")) {
            if (!strcmp(val, "limit-wrap"))
                avoid |= DT_AVOID_LIMIT_WRAP;
            else if (!strcmp(val, "bt-reach"))
                avoid |= DT_AVOID_BT_REACH;
            else if (!strcmp(val, "fsgs-unaligned-base"))
                avoid |= DT_AVOID_FSGS_ALIGN;
            else if (!strcmp(val, "far-pointer-loads"))
                avoid |= DT_AVOID_FARPTR;
            else {
                fprintf(stderr, "difftest: --avoid takes limit-wrap, bt-reach, fsgs-unaligned-base or "
                                "far-pointer-loads\n");
                return 2;
            }
        } else if (!strcmp(arg, "--kick-us")) {
            xopts.kick_us = (unsigned)strtoul(val, NULL, 0);
        } else if (!strcmp(arg, "--code-cache-kb")) {
            xopts.code_cache_kb = (unsigned)strtoul(val, NULL, 0);
        } else if (!strcmp(arg, "--keep-cache")) {
            xopts.keep_cache = !strcmp(val, "1") || !strcmp(val, "yes");
        } else if (!strcmp(arg, "--tolerate-kick-livelock")) {
            tolerate_livelock = !strcmp(val, "1") || !strcmp(val, "yes");
        } else if (!strcmp(arg, "--max-reports")) {
            max_reports = (unsigned)strtoul(val, NULL, 0);
        } else {
            run_usage();
            return 2;
        }
    }
    if (!cats) {
        fprintf(stderr, "difftest: unknown category\n");
        return 2;
    }
    cats &= ~exclude;
    if (!have_seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 20;
    }
    if (!native) {
        ssize_t n = readlink("/proc/self/exe", self_dir, sizeof self_dir - 1);
        char *slash;
        if (n <= 0) {
            fprintf(stderr, "difftest: /proc/self/exe: %s\n", strerror(errno));
            return 2;
        }
        self_dir[n] = 0;
        slash = strrchr(self_dir, '/');
        if (slash)
            *slash = 0;
        snprintf(native_path, sizeof native_path, "%s/difftest-native", self_dir);
        native = native_path;
    }
    if (list) {
        /* print the sequences without running them */
        run_features(&ctx);
        for (i = 0; i < count; i++) {
            static uint8_t code[DT_CODE_BYTES];
            uint64_t cs = dt_case_seed(seed, i);
            unsigned k, len;
            dt_gen_init(cs, &init);
            dt_gen_seq(cs, &init, cats & ~exclude, &ctx.feat, max_items, &seq);
            len = dt_seq_layout(&seq, code, sizeof code);
            printf("case %" PRIu64 " (case seed %" PRIu64 "):", i, cs);
            for (k = 0; k < seq.n; k++)
                printf("%s %s", k ? ";" : "", seq.item[k].name);
            printf("\n");
            if (ctx.verbose)
                dt_print_code(code, len);
        }
        return 0;
    }
    if (!ctx.b_is_native && !dt_xlat_available()) {
        fprintf(stderr, "difftest: this build has no translator; use --reference native or --selftest\n");
        return 2;
    }
    printf("difftest: seed %" PRIu64 "\n", seed);
    if (exclude) {
        unsigned bit;
        printf("difftest: EXCLUDED categories:");
        for (bit = 1; bit < DT_CAT_ALL; bit <<= 1)
            if (exclude & bit)
                printf(" %s", dt_cat_name(bit));
        printf(" (see tests/difftest/FINDINGS.md)\n");
    }
    fflush(stdout);

    dt_xlat_configure(&xopts);
    if (dt_worker_start(&ctx.a, DT_W_NATIVE, native) != 0 ||
        dt_worker_start(&ctx.b, ctx.b_is_native ? DT_W_NATIVE : DT_W_XLAT,
                        ctx.b_is_native ? native : ctx.profile) != 0) {
        fprintf(stderr, "difftest: cannot start workers: %s %s\n", ctx.a.errmsg, ctx.b.errmsg);
        return 2;
    }
    run_features(&ctx);
    ctx.feat.avoid = avoid;
    if (avoid)
        printf("difftest: AVOIDING known divergences:%s%s%s%s (see tests/difftest/FINDINGS.md)\n",
               avoid & DT_AVOID_LIMIT_WRAP ? " limit-wrap" : "",
               avoid & DT_AVOID_BT_REACH ? " bt-reach" : "",
               avoid & DT_AVOID_FSGS_ALIGN ? " fsgs-unaligned-base" : "",
               avoid & DT_AVOID_FARPTR ? " far-pointer-loads" : "");

    if (selftest) {
        int rc = run_selftest(&ctx, seed, cats);
        dt_worker_stop(&ctx.a);
        dt_worker_stop(&ctx.b);
        printf("difftest: selftest %s, seed %" PRIu64 "\n", rc == 0 ? "passed" : "FAILED", seed);
        return rc == 0 ? 0 : 1;
    }

    if (replay) {
        static uint8_t code[DT_CODE_BYTES];
        static char diff[8192];
        unsigned len;
        int rc;
        if (run_hex(replay, code, sizeof code - 1, &len) != 0) {
            fprintf(stderr, "difftest: --replay wants hex bytes\n");
            return 2;
        }
        code[len++] = 0xcc;
        dt_gen_init(seed, &init);
        dt_build_case(dt_worker_case(&ctx.a), &init, code, len, PROT_READ | PROT_WRITE | PROT_EXEC,
                      PROT_READ | PROT_WRITE);
        /* flags the generator would have masked are unknown here: compare all */
        rc = dt_run_built(&ctx, 0, 0, diff, sizeof diff);
        dt_print_code(code, len);
        run_print_init(&init);
        if (rc == DT_MISMATCH)
            printf("  differences:\n%s", diff);
        else if (rc == DT_MATCH) {
            char s[200];
            dt_result_str((const struct dt_result *)(dt_worker_case(&ctx.a) + DT_RESULT_OFF), s, sizeof s);
            printf("  match: both ended with %s\n", s);
        }
        printf("difftest: 1 sequences, %d mismatches, seed %" PRIu64 "\n", rc == DT_MISMATCH, seed);
        dt_worker_stop(&ctx.a);
        dt_worker_stop(&ctx.b);
        return rc == DT_MATCH ? 0 : 1;
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < count; i++) {
        uint64_t cs = dt_case_seed(seed, i);
        int rc;
        if (time_limit > 0 && (i & 63) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 > time_limit) {
                printf("difftest: time limit of %.0f s reached\n", time_limit);
                break;
            }
        }
        dt_gen_init(cs, &init);
        dt_gen_seq(cs, &init, cats, &ctx.feat, max_items, &seq);
        if (seq.n == 0)
            continue;
        run_check_decode(&ctx, &seq);
        rc = run_seq(&ctx, &init, &seq, first_diff, sizeof first_diff);
        done++;
        {
            const struct dt_result *rn =
                (const struct dt_result *)(dt_worker_case(&ctx.a) + DT_RESULT_OFF);
            ends[rn->status == DT_ST_INT3 ? 32 : rn->status == DT_ST_EXC && rn->vector < 32 ? rn->vector : 33]++;
            kicks += ((const struct dt_result *)(dt_worker_case(&ctx.b) + DT_RESULT_OFF))->kicks;
        }
        if (rc == DT_HARNESS_ERROR) {
            harness_error = 1;
            break;
        }
        if (rc == DT_MISMATCH && tolerate_livelock && xopts.kick_us) {
            const struct dt_result *rx =
                (const struct dt_result *)(dt_worker_case(&ctx.b) + DT_RESULT_OFF);
            const struct dt_result *rn =
                (const struct dt_result *)(dt_worker_case(&ctx.a) + DT_RESULT_OFF);
            if (rx->status == DT_ST_TIMEOUT && rn->status != DT_ST_TIMEOUT) {
                livelocks++; /* FINDINGS.md 6: counted and printed, not failed */
                continue;
            }
        }
        if (rc == DT_MISMATCH) {
            mismatches++;
            if (mismatches <= max_reports)
                run_report(&ctx, cs, i, &init, &seq, 1, first_diff);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (ctx.verbose) {
        unsigned v;
        printf("difftest: %.1f s, %u native and %u translated worker restarts\n",
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
               ctx.a.restarts, ctx.b.restarts);
        printf("difftest: native ends: INT3 %" PRIu64, ends[32]);
        for (v = 0; v < 32; v++)
            if (ends[v])
                printf(", vector %u: %" PRIu64, v, ends[v]);
        printf(", other %" PRIu64 "\n", ends[33]);
        printf("difftest: %" PRIu64 " kick exits re-entered\n", kicks);
    }
    if (livelocks)
        printf("difftest: TOLERATED %" PRIu64 " translated timeouts under --kick-us %u "
               "(--tolerate-kick-livelock; FINDINGS.md 6)\n", livelocks, xopts.kick_us);
    if (ctx.decode_rejects)
        printf("difftest: the decoder refused %u generated instructions (see above)\n", ctx.decode_rejects);

    if (!harness_error && strcmp(chosen, "none") != 0) {
        chosen_failed = dt_run_chosen(&ctx, strcmp(chosen, "all") ? chosen : NULL);
        if (chosen_failed < 0)
            harness_error = 1;
    }
    dt_worker_stop(&ctx.a);
    dt_worker_stop(&ctx.b);
    printf("difftest: %" PRIu64 " sequences, %" PRIu64 " mismatches, seed %" PRIu64 "\n", done,
           mismatches, seed);
    if (harness_error)
        printf("difftest: stopped by a harness error\n");
    return (mismatches || harness_error || chosen_failed) ? 1 : 0;
}
