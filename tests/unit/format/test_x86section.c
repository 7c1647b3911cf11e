/* test_x86section.c - the x86-cpu section's byte layout
 * (spec/container.md 6.3): round trip, fixed offsets, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fmt_test.h"

static void seg_equal(const struct vmp_x86_seg *a, const struct vmp_x86_seg *b)
{
    assert_int_equal(a->selector, b->selector);
    assert_int_equal(a->attr, b->attr);
    assert_int_equal(a->base, b->base);
    assert_int_equal(a->limit, b->limit);
}

static void test_x86section_roundtrip(void **state)
{
    (void)state;
    struct vmp_x86_state a, b;
    sample_cpu(&a);
    uint8_t buf[1024];
    size_t n;
    assert_int_equal(vmp_x86_state_encode(&a, buf, sizeof buf, &n), 0);
    assert_int_equal(n, VMP_X86_SECTION_V1_BYTES);
    char err[256];
    assert_int_equal(vmp_x86_state_decode(buf, n, 1, &b, err, sizeof err), 0);
    uint8_t again[VMP_X86_SECTION_V1_BYTES];
    vmp_x86_state_encode(&b, again, sizeof again, NULL);
    assert_memory_equal(buf, again, n);
    assert_int_equal(a.eip, b.eip);
    /* random states round trip too (reserved fields and flags kept legal) */
    srand(7);
    for (int k = 0; k < 200; k++) {
        uint8_t *p = (uint8_t *)&a;
        for (size_t i = 0; i < sizeof a; i++)
            p[i] = (uint8_t)rand();
        for (int s = 0; s < VMP_NSEG; s++)
            a.seg[s].attr &= 0x0fff;
        a.ldtr.attr &= 0x0fff;
        a.tr.attr &= 0x0fff;
        a.dr[4] = a.dr[5] = 0;
        a.pending.valid &= 1;
        a.pending.has_error_code &= 1;
        a.pending.is_interrupt &= 1;
        a.halted &= 1;
        a.intr_shadow &= 1;
        a.nmi_blocked &= 1;
        a.reserved0 = 0;
        assert_int_equal(vmp_x86_state_encode(&a, buf, sizeof buf, &n), 0);
        assert_int_equal(vmp_x86_state_decode(buf, n, 1, &b, err, sizeof err), 0);
        /* compare field by field: padding bytes of the struct are not state */
        assert_memory_equal(a.gpr, b.gpr, sizeof a.gpr);
        assert_int_equal(a.eip, b.eip);
        assert_int_equal(a.eflags, b.eflags);
        for (int s = 0; s < VMP_NSEG; s++)
            seg_equal(&a.seg[s], &b.seg[s]);
        seg_equal(&a.tr, &b.tr);
        seg_equal(&a.ldtr, &b.ldtr);
        assert_int_equal(a.gdtr.base, b.gdtr.base);
        assert_int_equal(a.gdtr.limit, b.gdtr.limit);
        assert_int_equal(a.idtr.base, b.idtr.base);
        assert_int_equal(a.idtr.limit, b.idtr.limit);
        assert_int_equal(a.cr0, b.cr0);
        assert_int_equal(a.cr2, b.cr2);
        assert_int_equal(a.cr3, b.cr3);
        assert_int_equal(a.cr4, b.cr4);
        assert_memory_equal(a.dr, b.dr, sizeof a.dr);
        assert_int_equal(a.msr.sysenter_cs, b.msr.sysenter_cs);
        assert_int_equal(a.msr.sysenter_esp, b.msr.sysenter_esp);
        assert_int_equal(a.msr.sysenter_eip, b.msr.sysenter_eip);
        assert_int_equal(a.msr.pat, b.msr.pat);
        assert_int_equal(a.msr.misc_enable, b.msr.misc_enable);
        assert_int_equal(a.msr.apic_base, b.msr.apic_base);
        assert_int_equal(a.msr.tsc_adjust, b.msr.tsc_adjust);
        assert_memory_equal(a.fxsave, b.fxsave, 512);
        assert_int_equal(a.pending.valid, b.pending.valid);
        assert_int_equal(a.pending.vector, b.pending.vector);
        assert_int_equal(a.pending.error_code, b.pending.error_code);
        assert_int_equal(a.halted, b.halted);
        assert_int_equal(a.intr_shadow, b.intr_shadow);
        assert_int_equal(a.nmi_blocked, b.nmi_blocked);
        assert_int_equal(a.icount, b.icount);
    }
}

/* Spot checks of the table in spec/container.md 6.3. */
static void test_x86section_offsets_follow_spec(void **state)
{
    (void)state;
    struct vmp_x86_state a;
    memset(&a, 0, sizeof a);
    a.gpr[VMP_EBX] = 0x44332211;
    a.eip = 0xdeadbeef;
    a.seg[VMP_CS].selector = 0x0010;
    a.seg[VMP_CS].attr = 0xc9b;
    a.tr.base = 0xc1800000;
    a.gdtr.limit = 0x00ff;
    a.idtr.base = 0x12345678;
    a.cr3 = 0x00abc000;
    a.dr[7] = 0x400;
    a.msr.pat = 0x0102030405060708ull;
    a.fxsave[0] = 0x7f;
    a.pending.error_code = 0xa5a5;
    a.nmi_blocked = 1;
    a.icount = 0x1122334455667788ull;
    uint8_t b[VMP_X86_SECTION_V1_BYTES];
    size_t n;
    vmp_x86_state_encode(&a, b, sizeof b, &n);
    assert_int_equal(b[12], 0x11);              /* EBX at 12 */
    assert_int_equal(b[15], 0x44);
    assert_int_equal(b[32], 0xef);              /* EIP at 32 */
    assert_int_equal(b[40 + 12], 0x10);         /* CS selector at 52 */
    assert_int_equal(b[40 + 12 + 2], 0x9b);     /* CS attr at 54 */
    assert_int_equal(b[40 + 12 + 3], 0x0c);
    assert_int_equal(b[124 + 4 + 3], 0xc1);     /* TR base at 128 */
    assert_int_equal(b[140], 0xff);             /* GDTR limit at 140 */
    assert_int_equal(b[142], 0x78);             /* IDTR base at 142 */
    assert_int_equal(b[156 + 1], 0xc0);         /* CR3 at 156 */
    assert_int_equal(b[164 + 28 + 1], 0x04);    /* DR7 at 192 */
    assert_int_equal(b[208], 0x08);             /* PAT at 208 */
    assert_int_equal(b[215], 0x01);
    assert_int_equal(b[240], 0x7f);             /* FXSAVE at 240 */
    assert_int_equal(b[756], 0xa5);             /* error code at 756 */
    assert_int_equal(b[762], 1);                /* NMI blocked at 762 */
    assert_int_equal(b[764], 0x88);             /* icount at 764 */
    assert_int_equal(b[771], 0x11);
}

static void test_x86section_refusals(void **state)
{
    (void)state;
    struct vmp_x86_state a, b;
    sample_cpu(&a);
    uint8_t buf[VMP_X86_SECTION_V1_BYTES + 1];
    size_t n;
    char err[256];
    assert_int_equal(vmp_x86_state_encode(&a, buf, 100, &n), VMP_ERR_INVALID);
    vmp_x86_state_encode(&a, buf, sizeof buf, &n);
    assert_int_equal(vmp_x86_state_decode(buf, n, 2, &b, err, sizeof err), VMP_ERR_VERSION);
    assert_non_null(strstr(err, "version 2, this reader knows version 1"));
    assert_int_equal(vmp_x86_state_decode(buf, n - 1, 1, &b, err, sizeof err), VMP_ERR_FORMAT);
    assert_int_equal(vmp_x86_state_decode(buf, n + 1, 1, &b, err, sizeof err), VMP_ERR_FORMAT);
    buf[760] = 2;
    assert_int_equal(vmp_x86_state_decode(buf, n, 1, &b, err, sizeof err), VMP_ERR_FORMAT);
    assert_non_null(strstr(err, "0x2f8"));
    buf[760] = 0;
    buf[763] = 1;
    assert_int_equal(vmp_x86_state_decode(buf, n, 1, &b, NULL, 0), VMP_ERR_FORMAT);
    buf[763] = 0;
    buf[55] = 0x10; /* CS attr bit 12 */
    assert_int_equal(vmp_x86_state_decode(buf, n, 1, &b, err, sizeof err), VMP_ERR_FORMAT);
    buf[55] = 0x0c;
    buf[180] = 1; /* DR4 */
    assert_int_equal(vmp_x86_state_decode(buf, n, 1, &b, err, sizeof err), VMP_ERR_FORMAT);
    buf[180] = 0;
    assert_int_equal(vmp_x86_state_decode(buf, n, 1, &b, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x86section_roundtrip),
        cmocka_unit_test(test_x86section_offsets_follow_spec),
        cmocka_unit_test(test_x86section_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
