/*
 * test_cpu_profile.c - the CPU profiles of format/profile.c against
 * spec/cpu-profiles.md: the baselines' exact leaves, the host mask, the
 * guest's CPUID answer, feature names, the missing-feature check, and the
 * JSON form including one test per parse error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <vmpack/error.h>
#include <vmpack/profile.h>

static struct vmp_cpu_profile load(const char *name)
{
    struct vmp_cpu_profile p;

    assert_int_equal(vmp_profile_builtin(name, &p), 0);
    return p;
}

static void test_profile_names_all_load(void **state)
{
    const char *const *n;
    size_t count = 0;

    (void)state;
    for (n = vmp_profile_names(); *n; n++) {
        struct vmp_cpu_profile p = load(*n);
        uint32_t i;

        assert_string_equal(p.name, *n);
        assert_true(p.nleaves > 2);
        for (i = 1; i < p.nleaves; i++) /* sorted, no duplicates */
            assert_true(p.leaves[i - 1].leaf < p.leaves[i].leaf ||
                        (p.leaves[i - 1].leaf == p.leaves[i].leaf &&
                         p.leaves[i - 1].subleaf < p.leaves[i].subleaf));
        count++;
    }
    assert_int_equal(count, 5);
}

static void test_profile_unknown_name(void **state)
{
    struct vmp_cpu_profile p;

    (void)state;
    assert_int_equal(vmp_profile_builtin("pentium9", &p), VMP_ERR_NOT_FOUND);
    assert_int_equal(vmp_profile_builtin("", &p), VMP_ERR_NOT_FOUND);
}

static void test_profile_i686_leaves(void **state)
{
    struct vmp_cpu_profile p = load("i686");
    uint32_t r[4];
    char vendor[13];

    (void)state;
    vmp_profile_cpuid(&p, 0, 0, r);
    assert_int_equal(r[0], 7);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    assert_string_equal(vendor, "GenuineIntel");
    vmp_profile_cpuid(&p, 1, 0, r);
    assert_int_equal(r[0], 0x619);                  /* family 6 model 1 stepping 9 */
    assert_int_equal(r[3], 0x0000a939);             /* fpu pse tsc msr cx8 sep pge cmov */
    assert_int_equal(r[2], 0x80000000);             /* hypervisor only */
    assert_true(vmp_profile_has(&p, VMP_FEAT_CMOV));
    assert_true(vmp_profile_has(&p, VMP_FEAT_CX8));
    assert_false(vmp_profile_has(&p, VMP_FEAT_MMX));
    assert_false(vmp_profile_has(&p, VMP_FEAT_SSE));
    assert_false(vmp_profile_has(&p, VMP_FEAT_PAE));
    assert_false(vmp_profile_has(&p, VMP_FEAT_APIC));
}

static void test_profile_baselines_grow(void **state)
{
    struct vmp_cpu_profile p3 = load("pentium3"), c2 = load("core2-32"),
                           nh = load("nehalem-32");

    (void)state;
    assert_true(vmp_profile_has(&p3, VMP_FEAT_MMX));
    assert_true(vmp_profile_has(&p3, VMP_FEAT_FXSR));
    assert_true(vmp_profile_has(&p3, VMP_FEAT_SSE));
    assert_false(vmp_profile_has(&p3, VMP_FEAT_SSE2));
    assert_true(vmp_profile_has(&c2, VMP_FEAT_SSE2));
    assert_true(vmp_profile_has(&c2, VMP_FEAT_SSE3));
    assert_true(vmp_profile_has(&c2, VMP_FEAT_SSSE3));
    assert_false(vmp_profile_has(&c2, VMP_FEAT_CX16));
    assert_false(vmp_profile_has(&c2, VMP_FEAT_SSE41));
    assert_true(vmp_profile_has(&nh, VMP_FEAT_SSE41));
    assert_true(vmp_profile_has(&nh, VMP_FEAT_SSE42));
    assert_true(vmp_profile_has(&nh, VMP_FEAT_POPCNT));
    assert_false(vmp_profile_has(&nh, VMP_FEAT_LM));
    assert_false(vmp_profile_has(&nh, VMP_FEAT_AVX));
}

static void test_profile_brand_string(void **state)
{
    struct vmp_cpu_profile p = load("core2-32");
    uint32_t r[12];
    char brand[49];
    int i;

    (void)state;
    for (i = 0; i < 3; i++)
        vmp_profile_cpuid(&p, 0x80000002u + (uint32_t)i, 0, &r[i * 4]);
    memcpy(brand, r, 48);
    brand[48] = '\0';
    assert_string_equal(brand, "vmpack core2-32");
}

static void test_profile_cpuid_out_of_range(void **state)
{
    struct vmp_cpu_profile p = load("pentium3");
    uint32_t r[4], top[4];

    (void)state;
    vmp_profile_cpuid(&p, 7, 0, top);
    vmp_profile_cpuid(&p, 8, 0, r);                 /* past the basic maximum */
    assert_memory_equal(r, top, sizeof r);
    vmp_profile_cpuid(&p, 0x80000009u, 0, r);       /* past the extended maximum */
    assert_memory_equal(r, top, sizeof r);
    vmp_profile_cpuid(&p, 0x12345678u, 0, r);       /* no such range */
    assert_memory_equal(r, top, sizeof r);
    vmp_profile_cpuid(&p, 4, 0, r);                 /* in range, not listed */
    assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
    vmp_profile_cpuid(&p, 0x40000000u, 0, r);
    assert_int_equal(r[0], 0x40000000u);
    assert_memory_equal(&r[1], "vmpackvmpack", 12);
}

static void test_profile_host_masked(void **state)
{
    struct vmp_cpu_profile h, raw;
    uint32_t r[4], rr[4];

    (void)state;
    assert_int_equal(vmp_profile_host(&h), 0);
    assert_int_equal(vmp_profile_read_host(&raw), 0);
    assert_string_equal(h.name, "host");
    assert_false(vmp_profile_has(&h, VMP_FEAT_LM));
    assert_false(vmp_profile_has(&h, VMP_FEAT_PAE));
    assert_false(vmp_profile_has(&h, VMP_FEAT_NX));
    assert_false(vmp_profile_has(&h, VMP_FEAT_APIC));
    assert_false(vmp_profile_has(&h, VMP_FEAT_AVX));
    assert_false(vmp_profile_has(&h, VMP_FEAT_XSAVE));
    assert_false(vmp_profile_has(&h, VMP_FEAT_AVX2));
    assert_true(vmp_profile_has(&h, VMP_FEAT_HYPERVISOR));
    /* the vendor stays the host's */
    vmp_profile_cpuid(&h, 0, 0, r);
    vmp_profile_cpuid(&raw, 0, 0, rr);
    assert_memory_equal(&r[1], &rr[1], 12);
    assert_true(r[0] <= 7);
    /* what the host has natively and the translator runs is kept */
    assert_int_equal(vmp_profile_has(&h, VMP_FEAT_SSE2), vmp_profile_has(&raw, VMP_FEAT_SSE2));
    assert_int_equal(vmp_profile_has(&h, VMP_FEAT_SSE42), vmp_profile_has(&raw, VMP_FEAT_SSE42));
    assert_int_equal(vmp_profile_has(&h, VMP_FEAT_ABM), vmp_profile_has(&raw, VMP_FEAT_ABM));
    /* the host can run its own profile */
    assert_int_equal(vmp_profile_missing(&h, &raw, NULL, 0), 0);
}

static void test_profile_missing_names_feature(void **state)
{
    struct vmp_cpu_profile nh = load("nehalem-32"), host = load("pentium3");
    unsigned miss[8];
    size_t n, i;
    int saw_sse2 = 0, saw_popcnt = 0;

    (void)state;
    /* a pentium3 "host" lacks nehalem's sse2..sse4.2 and popcnt and clflush */
    n = vmp_profile_missing(&nh, &host, miss, 8);
    assert_int_equal(n, 7);
    for (i = 0; i < n; i++) {
        assert_non_null(vmp_feat_name(miss[i]));
        saw_sse2 |= miss[i] == VMP_FEAT_SSE2;
        saw_popcnt |= miss[i] == VMP_FEAT_POPCNT;
    }
    assert_true(saw_sse2 && saw_popcnt);
    /* max smaller than the count: the count is still the total */
    assert_int_equal(vmp_profile_missing(&nh, &host, miss, 2), 7);
    /* emulated features (tsc, sep, hypervisor) never need the host */
    assert_int_equal(vmp_profile_missing(&host, &nh, NULL, 0), 0);
}

static void test_profile_missing_untranslatable(void **state)
{
    struct vmp_cpu_profile p = load("i686"), host;
    unsigned miss[4];

    (void)state;
    assert_int_equal(vmp_profile_read_host(&host), 0);
    p.leaves[1].ecx |= 1u << 28; /* avx: the translator does not run it */
    assert_int_equal(p.leaves[1].leaf, 1);
    assert_int_equal(vmp_profile_missing(&p, &host, miss, 4), 1);
    assert_int_equal(miss[0], VMP_FEAT_AVX);
}

static void test_feat_names(void **state)
{
    (void)state;
    assert_string_equal(vmp_feat_name(VMP_FEAT_SSE2), "sse2");
    assert_string_equal(vmp_feat_name(VMP_FEAT_SSE3), "pni");
    assert_string_equal(vmp_feat_name(VMP_FEAT_SSE41), "sse4_1");
    assert_string_equal(vmp_feat_name(VMP_FEAT_CLFSH), "clflush");
    assert_string_equal(vmp_feat_name(VMP_FEAT_ABM), "abm");
    assert_string_equal(vmp_feat_name(VMP_FEAT_LM), "lm");
    assert_string_equal(vmp_feat_name(VMP_FEAT_SHA), "sha_ni");
    assert_null(vmp_feat_name(VMP_FEAT_NONE));
    assert_null(vmp_feat_name(VMP_FEAT(VMP_FW_1_EDX, 10)));
}

static void test_profile_json_roundtrip(void **state)
{
    const char *const *n;

    (void)state;
    for (n = vmp_profile_names(); *n; n++) {
        struct vmp_cpu_profile p = load(*n), q;
        char buf[8192], err[256];

        assert_int_equal(vmp_profile_to_json(&p, buf, sizeof buf), 0);
        assert_int_equal(vmp_profile_from_json(buf, strlen(buf), &q, err, sizeof err), 0);
        assert_string_equal(q.name, p.name);
        assert_int_equal(q.nleaves, p.nleaves);
        assert_memory_equal(q.leaves, p.leaves, p.nleaves * sizeof p.leaves[0]);
    }
}

static void test_profile_to_json_small_buffer(void **state)
{
    struct vmp_cpu_profile p = load("i686");
    char buf[64];

    (void)state;
    assert_true(vmp_profile_to_json(&p, buf, sizeof buf) < 0);
}

static void test_profile_json_minimal_sorted(void **state)
{
    const char *j = "{\"leaves\":[{\"leaf\":\"0x1\",\"eax\":\"0x6FB\",\"ebx\":\"0x0\","
                    "\"ecx\":\"0x1\",\"edx\":\"0x4000000\"},"
                    "{\"leaf\":\"0x0\",\"subleaf\":\"0x0\",\"eax\":\"0x1\",\"ebx\":\"0x0\","
                    "\"ecx\":\"0x0\",\"edx\":\"0x0\"}], \"name\": \"mine\"}";
    struct vmp_cpu_profile p;
    char err[128];

    (void)state;
    assert_int_equal(vmp_profile_from_json(j, strlen(j), &p, err, sizeof err), 0);
    assert_string_equal(p.name, "mine");
    assert_int_equal(p.nleaves, 2);
    assert_int_equal(p.leaves[0].leaf, 0);
    assert_int_equal(p.leaves[1].eax, 0x6fb);
    assert_true(vmp_profile_has(&p, VMP_FEAT_SSE2));
    assert_true(vmp_profile_has(&p, VMP_FEAT_SSE3));
}

/* Each malformed profile, and the words its error message must contain. */
static const struct {
    const char *json, *expect;
} bad_json[] = {
    {"", "expected '{'"},
    {"[]", "expected '{'"},
    {"{\"name\":\"x\"}", "leaves: missing"},
    {"{\"leaves\":[]}", "name: missing"},
    {"{\"name\":\"x\",\"leaves\":[]}", "leaf 0x0"},
    {"{\"name\":\"x\",\"leaves\":[],\"extra\":1}", "unknown field \"extra\""},
    {"{\"name\":\"a b\",\"leaves\":[]}", "name: \"a b\""},
    {"{\"name\":\"x\",\"leaves\":[{\"leaf\":\"0x0\",\"eax\":\"0x1\",\"ebx\":\"0x0\","
     "\"ecx\":\"0x0\"}]}", "leaves[0].edx: missing"},
    {"{\"name\":\"x\",\"leaves\":[{\"leaf\":\"0x0\",\"eax\":\"zz\"}]}",
     "leaves[0].eax: expected a hex string"},
    {"{\"name\":\"x\",\"leaves\":[{\"leaf\":\"0x0\",\"eax\":\"0x123456789\"}]}",
     "leaves[0].eax: expected a hex string"},
    {"{\"name\":\"x\",\"leaves\":[{\"leaf\":1}]}", "leaves[0].leaf: expected a string"},
    {"{\"name\":\"x\",\"leaves\":[{\"leaf\":\"0x0\",\"leaf\":\"0x1\"}]}",
     "leaves[0].leaf: given twice"},
    {"{\"name\":\"x\",\"leaves\":[{\"eflags\":\"0x0\"}]}", "leaves[0]: unknown field \"eflags\""},
    {"{\"name\":\"x\",\"leaves\":[{\"leaf\":\"0x0\",\"eax\":\"0x1\",\"ebx\":\"0x0\","
     "\"ecx\":\"0x0\",\"edx\":\"0x0\"},{\"leaf\":\"0x0\",\"eax\":\"0x1\",\"ebx\":\"0x0\","
     "\"ecx\":\"0x0\",\"edx\":\"0x0\"}]}", "leaves[1]: leaf 0x0 subleaf 0x0 given twice"},
    {"{\"name\":\"x\",\"leaves\":[{\"leaf\":\"0x0\",\"eax\":\"0x1\",\"ebx\":\"0x0\","
     "\"ecx\":\"0x0\",\"edx\":\"0x0\"}]}", "leaf 0x1"},
    {"{\"name\":\"x\",\"leaves\":[]} x", "trailing data"},
    {"{\"name\":\"x\",\"leaves\":[", "end of input"},
    {"{\"name\":\"unterminated", "unterminated string"},
};

static void test_profile_json_errors_name_the_field(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        struct vmp_cpu_profile p;
        char err[256];
        int rc = vmp_profile_from_json(bad_json[i].json, strlen(bad_json[i].json), &p, err,
                                       sizeof err);

        if (rc >= 0 || strstr(err, bad_json[i].expect) == NULL)
            fail_msg("case %zu: rc %d, message \"%s\", expected \"%s\"", i, rc, err,
                     bad_json[i].expect);
    }
}

static void test_profile_json_too_many_leaves(void **state)
{
    char buf[16384];
    size_t pos = 0;
    int i;
    struct vmp_cpu_profile p;
    char err[256];

    (void)state;
    pos += (size_t)snprintf(buf + pos, sizeof buf - pos, "{\"name\":\"big\",\"leaves\":[");
    for (i = 0; i < VMP_PROFILE_MAX_LEAVES + 1; i++)
        pos += (size_t)snprintf(buf + pos, sizeof buf - pos,
                                "%s{\"leaf\":\"0x%x\",\"eax\":\"0x0\",\"ebx\":\"0x0\","
                                "\"ecx\":\"0x0\",\"edx\":\"0x0\"}",
                                i ? "," : "", i);
    pos += (size_t)snprintf(buf + pos, sizeof buf - pos, "]}");
    assert_true(vmp_profile_from_json(buf, pos, &p, err, sizeof err) < 0);
    assert_non_null(strstr(err, "more than 48 leaves"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_names_all_load),
        cmocka_unit_test(test_profile_unknown_name),
        cmocka_unit_test(test_profile_i686_leaves),
        cmocka_unit_test(test_profile_baselines_grow),
        cmocka_unit_test(test_profile_brand_string),
        cmocka_unit_test(test_profile_cpuid_out_of_range),
        cmocka_unit_test(test_profile_host_masked),
        cmocka_unit_test(test_profile_missing_names_feature),
        cmocka_unit_test(test_profile_missing_untranslatable),
        cmocka_unit_test(test_feat_names),
        cmocka_unit_test(test_profile_json_roundtrip),
        cmocka_unit_test(test_profile_to_json_small_buffer),
        cmocka_unit_test(test_profile_json_minimal_sorted),
        cmocka_unit_test(test_profile_json_errors_name_the_field),
        cmocka_unit_test(test_profile_json_too_many_leaves),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
