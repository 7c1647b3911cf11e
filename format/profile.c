/*
 * profile.c - CPU profiles: the built-in baselines, the "host" profile,
 * the guest's CPUID answer, feature names, and the JSON form.
 *
 * spec/cpu-profiles.md is normative for every value below: the leaves of
 * each baseline, the mask applied to the host, and the JSON grammar.
 */
#include <vmpack/error.h>
#include <vmpack/profile.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define PROFILE_HAVE_CPUID 1
#else
#define PROFILE_HAVE_CPUID 0
#endif

#define BIT(n) (1u << (n))

#define LEAF_HV 0x40000000u
#define LEAF_EXT 0x80000000u
#define LEAF_MAX_BASIC 7u
#define LEAF_MAX_EXT 0x80000004u

/* "vmpackvmpack" as CPUID returns it in EBX, ECX, EDX (little-endian). */
#define HV_SIG_EBX 0x61706d76u /* "vmpa" */
#define HV_SIG_ECX 0x6d766b63u /* "ckvm" */
#define HV_SIG_EDX 0x6b636170u /* "pack" */

/* "GenuineIntel": EBX "Genu", EDX "ineI", ECX "ntel" (SDM 2A CPUID leaf 0). */
#define INTEL_EBX 0x756e6547u
#define INTEL_EDX 0x49656e69u
#define INTEL_ECX 0x6c65746eu

/*
 * What the translator runs (spec/cpu-profiles.md 3). Instruction-set
 * features execute natively and need the host; system features are
 * emulated by the VMM and do not.
 */
#define TR_1_EDX_NATIVE \
    (BIT(0) /* fpu */ | BIT(8) /* cx8 */ | BIT(15) /* cmov */ | BIT(19) /* clflush */ | \
     BIT(23) /* mmx */ | BIT(24) /* fxsr */ | BIT(25) /* sse */ | BIT(26) /* sse2 */)
#define TR_1_EDX_EMULATED \
    (BIT(3) /* pse */ | BIT(4) /* tsc */ | BIT(5) /* msr */ | BIT(11) /* sep */ | \
     BIT(13) /* pge */ | BIT(16) /* pat */)
#define TR_1_ECX_NATIVE \
    (BIT(0) /* sse3 */ | BIT(9) /* ssse3 */ | BIT(19) /* sse4.1 */ | BIT(20) /* sse4.2 */ | \
     BIT(22) /* movbe */ | BIT(23) /* popcnt */)
#define TR_1_ECX_EMULATED (BIT(31) /* hypervisor */)
#define TR_81_ECX_NATIVE (BIT(5) /* abm: lzcnt */)

static const uint32_t tr_native[VMP_FW_COUNT] = {
    [VMP_FW_1_EDX] = TR_1_EDX_NATIVE,
    [VMP_FW_1_ECX] = TR_1_ECX_NATIVE,
    [VMP_FW_81_ECX] = TR_81_ECX_NATIVE,
};
static const uint32_t tr_emulated[VMP_FW_COUNT] = {
    [VMP_FW_1_EDX] = TR_1_EDX_EMULATED,
    [VMP_FW_1_ECX] = TR_1_ECX_EMULATED,
};

/* ---- building profiles ---- */

static void profile_set(struct vmp_cpu_profile *p, uint32_t leaf, uint32_t subleaf, uint32_t eax,
                        uint32_t ebx, uint32_t ecx, uint32_t edx)
{
    struct vmp_cpuid_leaf *l;
    uint32_t i;

    for (i = 0; i < p->nleaves; i++) {
        l = &p->leaves[i];
        if (l->leaf == leaf && l->subleaf == subleaf)
            goto fill;
    }
    if (p->nleaves == VMP_PROFILE_MAX_LEAVES)
        return; /* the built-in tables stay far below the limit */
    l = &p->leaves[p->nleaves++];
fill:
    l->leaf = leaf;
    l->subleaf = subleaf;
    l->eax = eax;
    l->ebx = ebx;
    l->ecx = ecx;
    l->edx = edx;
}

static int leaf_cmp(const void *a, const void *b)
{
    const struct vmp_cpuid_leaf *x = a, *y = b;

    if (x->leaf != y->leaf)
        return x->leaf < y->leaf ? -1 : 1;
    if (x->subleaf != y->subleaf)
        return x->subleaf < y->subleaf ? -1 : 1;
    return 0;
}

static void profile_sort(struct vmp_cpu_profile *p)
{
    qsort(p->leaves, p->nleaves, sizeof p->leaves[0], leaf_cmp);
}

static const struct vmp_cpuid_leaf *profile_find(const struct vmp_cpu_profile *p, uint32_t leaf,
                                                 uint32_t subleaf)
{
    uint32_t i;

    for (i = 0; i < p->nleaves; i++)
        if (p->leaves[i].leaf == leaf && p->leaves[i].subleaf == subleaf)
            return &p->leaves[i];
    return NULL;
}

/* Brand string leaves 0x80000002..4: 48 bytes, NUL padded (SDM 2A CPUID). */
static void profile_set_brand(struct vmp_cpu_profile *p, const char *brand)
{
    char buf[48];
    uint32_t r[12];
    int i;

    memset(buf, 0, sizeof buf);
    strncpy(buf, brand, sizeof buf - 1);
    memcpy(r, buf, sizeof r);
    for (i = 0; i < 3; i++)
        profile_set(p, LEAF_EXT + 2 + (uint32_t)i, 0, r[i * 4], r[i * 4 + 1], r[i * 4 + 2],
                    r[i * 4 + 3]);
}

static void profile_set_hv(struct vmp_cpu_profile *p)
{
    profile_set(p, LEAF_HV, 0, LEAF_HV, HV_SIG_EBX, HV_SIG_ECX, HV_SIG_EDX);
}

struct baseline {
    const char *name;
    uint32_t signature;     /* CPUID.01H:EAX */
    uint32_t ebx1;          /* CPUID.01H:EBX */
    uint32_t edx1, ecx1;
    const char *brand;
};

#define P6_EDX (BIT(0) | BIT(3) | BIT(4) | BIT(5) | BIT(8) | BIT(11) | BIT(13) | BIT(15))
#define P3_EDX (P6_EDX | BIT(16) | BIT(23) | BIT(24) | BIT(25))
#define CORE2_EDX (P3_EDX | BIT(19) | BIT(26))
#define CORE2_ECX (BIT(0) | BIT(9) | BIT(31))
#define NEHALEM_ECX (CORE2_ECX | BIT(19) | BIT(20) | BIT(23))

/* spec/cpu-profiles.md 2: the baselines. */
static const struct baseline baselines[] = {
    {"i686", 0x00000619, 0, P6_EDX, BIT(31), "vmpack i686 (P6 class)"},
    {"pentium3", 0x00000686, 0, P3_EDX, BIT(31), "vmpack pentium3"},
    {"core2-32", 0x000006fb, 0x00010800, CORE2_EDX, CORE2_ECX, "vmpack core2-32"},
    {"nehalem-32", 0x000106a5, 0x00010800, CORE2_EDX, NEHALEM_ECX, "vmpack nehalem-32"},
};

static const char *const profile_names[] = {"i686", "pentium3", "core2-32", "nehalem-32", "host",
                                            NULL};

const char *const *vmp_profile_names(void)
{
    return profile_names;
}

static void profile_init(struct vmp_cpu_profile *p, const char *name)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
}

int vmp_profile_builtin(const char *name, struct vmp_cpu_profile *out)
{
    size_t i;

    if (name == NULL || out == NULL)
        return VMP_ERR_NOT_FOUND;
    if (strcmp(name, "host") == 0)
        return vmp_profile_host(out);
    for (i = 0; i < sizeof baselines / sizeof baselines[0]; i++) {
        const struct baseline *b = &baselines[i];

        if (strcmp(name, b->name) != 0)
            continue;
        profile_init(out, b->name);
        profile_set(out, 0, 0, LEAF_MAX_BASIC, INTEL_EBX, INTEL_ECX, INTEL_EDX);
        profile_set(out, 1, 0, b->signature, b->ebx1, b->ecx1, b->edx1);
        profile_set(out, 7, 0, 0, 0, 0, 0);
        profile_set_hv(out);
        profile_set(out, LEAF_EXT, 0, LEAF_MAX_EXT, 0, 0, 0);
        profile_set(out, LEAF_EXT + 1, 0, 0, 0, 0, 0);
        profile_set_brand(out, b->brand);
        profile_sort(out);
        return 0;
    }
    return VMP_ERR_NOT_FOUND;
}

/* ---- the host ---- */

#if PROFILE_HAVE_CPUID
static void host_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    unsigned a, b, c, d;

    __cpuid_count(leaf, subleaf, a, b, c, d);
    r[0] = a;
    r[1] = b;
    r[2] = c;
    r[3] = d;
}
#endif

int vmp_profile_read_host(struct vmp_cpu_profile *out)
{
#if PROFILE_HAVE_CPUID
    uint32_t r[4], max_basic, max_ext, leaf;

    if (out == NULL)
        return VMP_ERR_NOT_FOUND;
    profile_init(out, "host-raw");
    host_cpuid(0, 0, r);
    max_basic = r[0];
    profile_set(out, 0, 0, r[0], r[1], r[2], r[3]);
    for (leaf = 1; leaf <= max_basic && leaf <= LEAF_MAX_BASIC; leaf++) {
        host_cpuid(leaf, 0, r);
        profile_set(out, leaf, 0, r[0], r[1], r[2], r[3]);
    }
    host_cpuid(LEAF_EXT, 0, r);
    max_ext = r[0];
    if (max_ext >= LEAF_EXT && max_ext < LEAF_EXT + 0x10000) {
        for (leaf = LEAF_EXT; leaf <= max_ext && leaf <= LEAF_MAX_EXT; leaf++) {
            host_cpuid(leaf, 0, r);
            profile_set(out, leaf, 0, r[0], r[1], r[2], r[3]);
        }
    }
    profile_sort(out);
    return 0;
#else
    (void)out;
    return VMP_ERR_NOT_FOUND;
#endif
}

int vmp_profile_host(struct vmp_cpu_profile *out)
{
    struct vmp_cpu_profile raw;
    const struct vmp_cpuid_leaf *l;
    uint32_t max_basic, max_ext, leaf;
    int rc;

    if (out == NULL)
        return VMP_ERR_NOT_FOUND;
    rc = vmp_profile_read_host(&raw);
    if (rc != 0)
        return rc;
    profile_init(out, "host");
    l = profile_find(&raw, 0, 0);
    max_basic = l->eax < LEAF_MAX_BASIC ? l->eax : LEAF_MAX_BASIC;
    profile_set(out, 0, 0, max_basic, l->ebx, l->ecx, l->edx);
    l = profile_find(&raw, 1, 0);
    if (l != NULL) {
        /* EBX: keep the CLFLUSH line size; one logical CPU; APIC ID 0. */
        profile_set(out, 1, 0, l->eax, (l->ebx & 0x0000ff00u) | 0x00010000u,
                    (l->ecx & (TR_1_ECX_NATIVE | TR_1_ECX_EMULATED)) | BIT(31),
                    l->edx & (TR_1_EDX_NATIVE | TR_1_EDX_EMULATED));
    }
    if (max_basic >= 7)
        profile_set(out, 7, 0, 0, 0, 0, 0);
    profile_set_hv(out);
    l = profile_find(&raw, LEAF_EXT, 0);
    max_ext = (l != NULL && l->eax >= LEAF_EXT + 1) ? l->eax : 0;
    if (max_ext != 0) {
        if (max_ext > LEAF_MAX_EXT)
            max_ext = LEAF_MAX_EXT;
        profile_set(out, LEAF_EXT, 0, max_ext, l->ebx, l->ecx, l->edx);
        l = profile_find(&raw, LEAF_EXT + 1, 0);
        if (l != NULL)
            profile_set(out, LEAF_EXT + 1, 0, l->eax, 0, l->ecx & TR_81_ECX_NATIVE, 0);
        for (leaf = LEAF_EXT + 2; leaf <= max_ext; leaf++) {
            l = profile_find(&raw, leaf, 0);
            if (l != NULL)
                profile_set(out, leaf, 0, l->eax, l->ebx, l->ecx, l->edx);
        }
    }
    profile_sort(out);
    return 0;
}

/* ---- answering CPUID ---- */

static uint32_t range_max(const struct vmp_cpu_profile *p, uint32_t base)
{
    const struct vmp_cpuid_leaf *l = profile_find(p, base, 0);

    if (l == NULL)
        return base == 0 ? 0 : base - 1; /* base - 1: the range is empty */
    return l->eax;
}

void vmp_profile_cpuid(const struct vmp_cpu_profile *p, uint32_t leaf, uint32_t subleaf,
                       uint32_t out[4])
{
    const struct vmp_cpuid_leaf *l;
    uint32_t base = leaf & 0xffff0000u, max;

    memset(out, 0, 4 * sizeof out[0]);
    if (base == 0 || base == LEAF_HV || base == LEAF_EXT) {
        max = range_max(p, base);
        if (leaf > max || (base != 0 && max < base)) {
            /* SDM 2A CPUID: an input above the maximum returns the data of
             * the highest basic leaf. */
            leaf = range_max(p, 0);
            subleaf = 0;
        }
    } else {
        leaf = range_max(p, 0);
        subleaf = 0;
    }
    l = profile_find(p, leaf, subleaf);
    if (l == NULL)
        return;
    out[0] = l->eax;
    out[1] = l->ebx;
    out[2] = l->ecx;
    out[3] = l->edx;
}

/* ---- features ---- */

static const struct vmp_cpuid_leaf *feat_leaf(const struct vmp_cpu_profile *p, unsigned word)
{
    switch (word) {
    case VMP_FW_1_EDX:
    case VMP_FW_1_ECX:
        return profile_find(p, 1, 0);
    case VMP_FW_7_EBX:
    case VMP_FW_7_ECX:
        return range_max(p, 0) >= 7 ? profile_find(p, 7, 0) : NULL;
    case VMP_FW_81_EDX:
    case VMP_FW_81_ECX:
        return range_max(p, LEAF_EXT) >= LEAF_EXT + 1 ? profile_find(p, LEAF_EXT + 1, 0) : NULL;
    }
    return NULL;
}

static uint32_t feat_word(const struct vmp_cpu_profile *p, unsigned word)
{
    const struct vmp_cpuid_leaf *l = feat_leaf(p, word);

    if (l == NULL)
        return 0;
    switch (word) {
    case VMP_FW_1_EDX:
    case VMP_FW_81_EDX:
        return l->edx;
    case VMP_FW_1_ECX:
    case VMP_FW_7_ECX:
    case VMP_FW_81_ECX:
        return l->ecx;
    case VMP_FW_7_EBX:
        return l->ebx;
    }
    return 0;
}

int vmp_profile_has(const struct vmp_cpu_profile *p, unsigned feat)
{
    unsigned word = VMP_FEAT_WORD(feat);

    if (p == NULL || feat == VMP_FEAT_NONE || word >= VMP_FW_COUNT)
        return 0;
    return (feat_word(p, word) >> VMP_FEAT_BIT(feat)) & 1u;
}

/* The names Linux prints in /proc/cpuinfo (arch/x86 cpufeatures), per bit. */
static const char *const names_1_edx[32] = {
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL,
    "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL,
    "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe"};
static const char *const names_1_ecx[32] = {
    "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est",
    "tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid",
    "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer",
    "aes", "xsave", "osxsave", "avx", "f16c", "rdrand", "hypervisor"};
static const char *const names_7_ebx[32] = {
    "fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", "fdp_excptn_only",
    "smep", "bmi2", "erms", "invpcid", "rtm", "cqm", "zero_fcs_fds", "mpx", "rdt_a",
    "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", NULL,
    "clflushopt", "clwb", "intel_pt", "avx512pf", "avx512er", "avx512cd", "sha_ni",
    "avx512bw", "avx512vl"};
static const char *const names_7_ecx[32] = {
    NULL, "avx512vbmi", "umip", "pku", "ospke", "waitpkg", "avx512_vbmi2", "shstk",
    "gfni", "vaes", "vpclmulqdq", "avx512_vnni", "avx512_bitalg", "tme",
    "avx512_vpopcntdq", NULL, "la57", NULL, NULL, NULL, NULL, NULL, "rdpid", NULL,
    "bus_lock_detect", "cldemote", NULL, "movdiri", "movdir64b", "enqcmd", "sgx_lc",
    NULL};
static const char *const names_81_edx[32] = {
    [11] = "syscall", [19] = "mp", [20] = "nx", [22] = "mmxext", [25] = "fxsr_opt",
    [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm", [30] = "3dnowext", [31] = "3dnow"};
static const char *const names_81_ecx[32] = {
    [0] = "lahf_lm", [1] = "cmp_legacy", [2] = "svm", [3] = "extapic", [4] = "cr8_legacy",
    [5] = "abm", [6] = "sse4a", [7] = "misalignsse", [8] = "3dnowprefetch", [9] = "osvw",
    [10] = "ibs", [11] = "xop", [12] = "skinit", [13] = "wdt", [15] = "lwp", [16] = "fma4",
    [17] = "tce", [19] = "nodeid_msr", [21] = "tbm", [22] = "topoext", [23] = "perfctr_core",
    [24] = "perfctr_nb", [26] = "bpext", [27] = "ptsc", [28] = "perfctr_llc", [29] = "mwaitx"};

static const char *const *const feat_names[VMP_FW_COUNT] = {
    names_1_edx, names_1_ecx, names_7_ebx, names_7_ecx, names_81_edx, names_81_ecx};

const char *vmp_feat_name(unsigned feat)
{
    unsigned word = VMP_FEAT_WORD(feat);

    if (feat == VMP_FEAT_NONE || word >= VMP_FW_COUNT)
        return NULL;
    return feat_names[word][VMP_FEAT_BIT(feat)];
}

/*
 * A feature is missing when the translator cannot run it at all, or when it
 * runs natively and the host lacks it (spec/cpu-profiles.md 4). Emulated
 * features (tsc, sep, pge, hypervisor, ...) never need the host.
 */
size_t vmp_profile_missing(const struct vmp_cpu_profile *p, const struct vmp_cpu_profile *host,
                           unsigned *missing, size_t max)
{
    size_t n = 0;
    unsigned word, bit;

    if (p == NULL)
        return 0;
    for (word = 0; word < VMP_FW_COUNT; word++) {
        uint32_t want = feat_word(p, word);
        uint32_t have = host != NULL ? feat_word(host, word) : 0;
        uint32_t bad = (want & ~(tr_native[word] | tr_emulated[word])) |
                       (want & tr_native[word] & ~have);

        for (bit = 0; bit < 32; bit++) {
            if (!(bad & BIT(bit)))
                continue;
            if (missing != NULL && n < max)
                missing[n] = VMP_FEAT(word, bit);
            n++;
        }
    }
    return n;
}

/* ---- JSON (spec/cpu-profiles.md 5) ---- */

struct jp {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
    int failed;
};

static void jp_fail(struct jp *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jp_fail(struct jp *j, const char *fmt, ...)
{
    va_list ap;

    if (j->failed)
        return;
    j->failed = 1;
    if (j->err == NULL || j->errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(j->err, j->errlen, fmt, ap);
    va_end(ap);
}

static void jp_ws(struct jp *j)
{
    while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
                               j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
        j->pos++;
}

static int jp_peek(struct jp *j)
{
    jp_ws(j);
    return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

static void jp_describe(struct jp *j, char *buf, size_t buflen)
{
    int c = jp_peek(j);

    if (c < 0)
        snprintf(buf, buflen, "end of input");
    else if (c >= 0x20 && c < 0x7f)
        snprintf(buf, buflen, "'%c' at offset %zu", c, j->pos);
    else
        snprintf(buf, buflen, "byte 0x%02x at offset %zu", (unsigned)c, j->pos);
}

static int jp_expect(struct jp *j, char c, const char *where)
{
    char found[48];

    if (j->failed)
        return -1;
    if (jp_peek(j) == (unsigned char)c) {
        j->pos++;
        return 0;
    }
    jp_describe(j, found, sizeof found);
    jp_fail(j, "%s: expected '%c', found %s", where, c, found);
    return -1;
}

/* A JSON string without escapes other than \" and \\ (profiles need none). */
static int jp_string(struct jp *j, char *out, size_t outlen, const char *where)
{
    size_t n = 0;
    char found[48];

    if (j->failed)
        return -1;
    if (jp_peek(j) != '"') {
        jp_describe(j, found, sizeof found);
        jp_fail(j, "%s: expected a string, found %s", where, found);
        return -1;
    }
    j->pos++;
    while (j->pos < j->len && j->s[j->pos] != '"') {
        char c = j->s[j->pos++];

        if (c == '\\') {
            if (j->pos >= j->len || (j->s[j->pos] != '"' && j->s[j->pos] != '\\')) {
                jp_fail(j, "%s: unsupported escape at offset %zu", where, j->pos - 1);
                return -1;
            }
            c = j->s[j->pos++];
        } else if ((unsigned char)c < 0x20) {
            jp_fail(j, "%s: control character in string at offset %zu", where, j->pos - 1);
            return -1;
        }
        if (n + 1 >= outlen) {
            jp_fail(j, "%s: string longer than %zu bytes", where, outlen - 1);
            return -1;
        }
        out[n++] = c;
    }
    if (j->pos >= j->len) {
        jp_fail(j, "%s: unterminated string", where);
        return -1;
    }
    j->pos++;
    out[n] = '\0';
    return 0;
}

/* A register value: "0x" and 1 to 8 hex digits. */
static int jp_hex32(struct jp *j, uint32_t *out, const char *where)
{
    char buf[24];
    size_t i, n;
    uint32_t v = 0;

    if (jp_string(j, buf, sizeof buf, where) != 0)
        return -1;
    n = strlen(buf);
    if (n < 3 || n > 10 || buf[0] != '0' || (buf[1] != 'x' && buf[1] != 'X'))
        goto bad;
    for (i = 2; i < n; i++) {
        char c = buf[i];
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            goto bad;
        v = (v << 4) | d;
    }
    *out = v;
    return 0;
bad:
    jp_fail(j, "%s: expected a hex string \"0x\" with 1 to 8 digits, found \"%s\"", where, buf);
    return -1;
}

enum { F_LEAF = 1, F_SUBLEAF = 2, F_EAX = 4, F_EBX = 8, F_ECX = 16, F_EDX = 32 };

static int jp_leaf(struct jp *j, size_t idx, struct vmp_cpuid_leaf *l)
{
    static const char *const keys[] = {"leaf", "subleaf", "eax", "ebx", "ecx", "edx"};
    unsigned seen = 0;
    char where[64], key[32];
    size_t k;

    snprintf(where, sizeof where, "leaves[%zu]", idx);
    if (jp_expect(j, '{', where) != 0)
        return -1;
    memset(l, 0, sizeof *l);
    if (jp_peek(j) != '}') {
        for (;;) {
            uint32_t *dst[] = {&l->leaf, &l->subleaf, &l->eax, &l->ebx, &l->ecx, &l->edx};

            if (jp_string(j, key, sizeof key, where) != 0)
                return -1;
            for (k = 0; k < 6; k++)
                if (strcmp(key, keys[k]) == 0)
                    break;
            if (k == 6) {
                jp_fail(j, "%s: unknown field \"%s\"", where, key);
                return -1;
            }
            snprintf(where, sizeof where, "leaves[%zu].%s", idx, keys[k]);
            if (seen & (1u << k)) {
                jp_fail(j, "%s: given twice", where);
                return -1;
            }
            seen |= 1u << k;
            if (jp_expect(j, ':', where) != 0 || jp_hex32(j, dst[k], where) != 0)
                return -1;
            snprintf(where, sizeof where, "leaves[%zu]", idx);
            if (jp_peek(j) == ',') {
                j->pos++;
                continue;
            }
            break;
        }
    }
    if (jp_expect(j, '}', where) != 0)
        return -1;
    for (k = 0; k < 6; k++) {
        if (k == 1)
            continue; /* subleaf defaults to 0 */
        if (!(seen & (1u << k))) {
            jp_fail(j, "leaves[%zu].%s: missing", idx, keys[k]);
            return -1;
        }
    }
    return 0;
}

static int jp_leaves(struct jp *j, struct vmp_cpu_profile *p)
{
    size_t idx = 0;
    uint32_t i;

    if (jp_expect(j, '[', "leaves") != 0)
        return -1;
    if (jp_peek(j) != ']') {
        for (;;) {
            struct vmp_cpuid_leaf l;

            if (idx == VMP_PROFILE_MAX_LEAVES) {
                jp_fail(j, "leaves: more than %d leaves", VMP_PROFILE_MAX_LEAVES);
                return -1;
            }
            if (jp_leaf(j, idx, &l) != 0)
                return -1;
            for (i = 0; i < p->nleaves; i++) {
                if (p->leaves[i].leaf == l.leaf && p->leaves[i].subleaf == l.subleaf) {
                    jp_fail(j, "leaves[%zu]: leaf 0x%x subleaf 0x%x given twice", idx, l.leaf,
                            l.subleaf);
                    return -1;
                }
            }
            p->leaves[p->nleaves++] = l;
            idx++;
            if (jp_peek(j) == ',') {
                j->pos++;
                continue;
            }
            break;
        }
    }
    return jp_expect(j, ']', "leaves");
}

static int name_ok(const char *name)
{
    const char *c;

    if (name[0] == '\0')
        return 0;
    for (c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return 0;
    return 1;
}

int vmp_profile_from_json(const char *json, size_t len, struct vmp_cpu_profile *out, char *err,
                          size_t errlen)
{
    struct jp j = {json, len, 0, err, errlen, 0};
    struct vmp_cpu_profile p;
    int have_name = 0, have_leaves = 0;
    char key[32], found[48];
    const struct vmp_cpuid_leaf *l0;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (json == NULL || out == NULL) {
        jp_fail(&j, "no input");
        return VMP_ERR_INVALID;
    }
    memset(&p, 0, sizeof p);
    if (jp_expect(&j, '{', "profile") != 0)
        goto fail;
    for (;;) {
        if (jp_string(&j, key, sizeof key, "profile") != 0)
            goto fail;
        if (strcmp(key, "name") == 0) {
            if (have_name) {
                jp_fail(&j, "name: given twice");
                goto fail;
            }
            have_name = 1;
            if (jp_expect(&j, ':', "name") != 0 ||
                jp_string(&j, p.name, sizeof p.name, "name") != 0)
                goto fail;
            if (!name_ok(p.name)) {
                jp_fail(&j, "name: \"%s\" must be 1 to %d of [A-Za-z0-9._-]", p.name,
                        VMP_PROFILE_NAME_MAX - 1);
                goto fail;
            }
        } else if (strcmp(key, "leaves") == 0) {
            if (have_leaves) {
                jp_fail(&j, "leaves: given twice");
                goto fail;
            }
            have_leaves = 1;
            if (jp_expect(&j, ':', "leaves") != 0 || jp_leaves(&j, &p) != 0)
                goto fail;
        } else {
            jp_fail(&j, "profile: unknown field \"%s\"", key);
            goto fail;
        }
        if (jp_peek(&j) == ',') {
            j.pos++;
            continue;
        }
        break;
    }
    if (jp_expect(&j, '}', "profile") != 0)
        goto fail;
    if (jp_peek(&j) != -1) {
        jp_describe(&j, found, sizeof found);
        jp_fail(&j, "profile: trailing data: %s", found);
        goto fail;
    }
    if (!have_name) {
        jp_fail(&j, "name: missing");
        goto fail;
    }
    if (!have_leaves) {
        jp_fail(&j, "leaves: missing");
        goto fail;
    }
    profile_sort(&p);
    l0 = profile_find(&p, 0, 0);
    if (l0 == NULL) {
        jp_fail(&j, "leaves: leaf 0x0 (vendor and maximum leaf) is missing");
        goto fail;
    }
    if (l0->eax < 1 || profile_find(&p, 1, 0) == NULL) {
        jp_fail(&j, "leaves: leaf 0x1 (signature and features) is missing");
        goto fail;
    }
    *out = p;
    return 0;
fail:
    return VMP_ERR_INVALID;
}

int vmp_profile_to_json(const struct vmp_cpu_profile *p, char *buf, size_t buflen)
{
    size_t pos = 0;
    uint32_t i;
    int n;

    if (p == NULL || buf == NULL || buflen == 0)
        return VMP_ERR_INVALID;
#define EMIT(...)                                                     \
    do {                                                              \
        n = snprintf(buf + pos, buflen - pos, __VA_ARGS__);           \
        if (n < 0 || (size_t)n >= buflen - pos)                       \
            return VMP_ERR_INVALID;                                   \
        pos += (size_t)n;                                             \
    } while (0)
    EMIT("{\n  \"name\": \"%s\",\n  \"leaves\": [", p->name);
    for (i = 0; i < p->nleaves; i++) {
        const struct vmp_cpuid_leaf *l = &p->leaves[i];

        EMIT("%s\n    {\"leaf\": \"0x%x\", \"subleaf\": \"0x%x\", \"eax\": \"0x%08x\", "
             "\"ebx\": \"0x%08x\", \"ecx\": \"0x%08x\", \"edx\": \"0x%08x\"}",
             i ? "," : "", l->leaf, l->subleaf, l->eax, l->ebx, l->ecx, l->edx);
    }
    EMIT("\n  ]\n}\n");
#undef EMIT
    return 0;
}
