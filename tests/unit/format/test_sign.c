/* test_sign.c - Ed25519 keys, their text files, signing and verifying
 * containers (spec/container.md 7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fmt_int.h"
#include "fmt_check.h"
#include "fmt_test.h"

/* a folder holding the sample container c.vmpack */
static int setup(void **state)
{
    char err[256];
    if (tmp_setup(state))
        return -1;
    return sample_write(tpath(*state, "c.vmpack"), 0, err, sizeof err) ? -1 : 0;
}

static void test_sign_key_text_roundtrip(void **state)
{
    (void)state;
    struct vmp_secret_key sk, sk2;
    struct vmp_public_key pk, pk2, pk3;
    assert_int_equal(vmp_key_generate(&sk, &pk), 0);
    char t[VMP_KEY_TEXT_MAX], err[256];
    assert_int_equal(vmp_key_secret_to_text(&sk, t, sizeof t), 0);
    assert_int_equal(strncmp(t, "vmpack-ed25519-secret-key v1\n", 29), 0);
    assert_int_equal(vmp_key_secret_from_text(t, strlen(t), &sk2, err, sizeof err), 0);
    assert_memory_equal(sk.bytes, sk2.bytes, sizeof sk.bytes);
    assert_int_equal(vmp_key_public_to_text(&pk, t, sizeof t), 0);
    assert_int_equal(strncmp(t, "vmpack-ed25519-public-key v1\n", 29), 0);
    assert_int_equal(vmp_key_public_from_text(t, strlen(t), &pk2, err, sizeof err), 0);
    assert_memory_equal(pk.bytes, pk2.bytes, sizeof pk.bytes);
    vmp_key_public_from_secret(&sk, &pk3);
    assert_memory_equal(pk.bytes, pk3.bytes, sizeof pk.bytes);
    char id[VMP_KEY_ID_TEXT];
    vmp_key_id(&pk, id);
    assert_int_equal(strlen(id), 16);
    uint8_t d[32];
    char hex[17];
    crypto_hash_sha256(d, pk.bytes, 32);
    sodium_bin2hex(hex, sizeof hex, d, 8);
    assert_string_equal(id, hex);
    assert_int_equal(vmp_key_secret_to_text(&sk, t, 10), VMP_ERR_INVALID);
}

static void test_sign_key_text_malformed(void **state)
{
    (void)state;
    struct vmp_secret_key sk;
    struct vmp_public_key pk;
    char t[VMP_KEY_TEXT_MAX], err[256];
    vmp_key_generate(&sk, &pk);
    vmp_key_secret_to_text(&sk, t, sizeof t);
    /* a public key file given as a secret key */
    char pt[VMP_KEY_TEXT_MAX];
    vmp_key_public_to_text(&pk, pt, sizeof pt);
    assert_int_equal(vmp_key_secret_from_text(pt, strlen(pt), &sk, err, sizeof err), VMP_ERR_KEY);
    assert_non_null(strstr(err, "first line"));
    /* no final newline */
    assert_int_equal(vmp_key_secret_from_text(t, strlen(t) - 1, &sk, err, sizeof err), VMP_ERR_KEY);
    /* wrong length of base64 */
    char shortk[] = "vmpack-ed25519-public-key v1\nAAAA\n";
    assert_int_equal(vmp_key_public_from_text(shortk, strlen(shortk), &pk, err, sizeof err), VMP_ERR_KEY);
    assert_non_null(strstr(err, "32 bytes"));
    /* a secret key whose public half was changed */
    struct vmp_secret_key bad = sk;
    vmp_key_generate(&sk, &pk);
    vmp_key_secret_to_text(&sk, t, sizeof t);
    assert_int_equal(vmp_key_secret_from_text(t, strlen(t), &bad, err, sizeof err), 0);
    bad.bytes[40] ^= 1;
    vmp_key_secret_to_text(&bad, t, sizeof t);
    assert_int_equal(vmp_key_secret_from_text(t, strlen(t), &bad, err, sizeof err), VMP_ERR_KEY);
    assert_non_null(strstr(err, "public half"));
    assert_int_equal(vmp_key_public_from_text("", 0, &pk, NULL, 0), VMP_ERR_KEY);
}

/* Signs p with a fresh key and opens it. */
static vmp_reader *sign_new_key(const char *p, struct vmp_secret_key *sk, struct vmp_public_key *pk)
{
    char err[512];
    assert_int_equal(vmp_key_generate(sk, pk), 0);
    if (vmp_container_sign(p, sk, err, sizeof err))
        fail_msg("sign %s: %s", p, err);
    return open_ok(p);
}

static void test_sign_verify_ok_keeps_blobs(void **state)
{
    const char *p = tpath(*state, "c.vmpack");
    vmp_reader *r = open_ok(p);
    uint8_t md0[32];
    vmp_reader_manifest_digest(r, md0);
    struct vmp_container_stats st0;
    vmp_reader_stats(r, &st0);
    struct vmp_public_key pk;
    struct vmp_secret_key sk;
    vmp_key_generate(&sk, &pk);
    assert_int_equal(vmp_reader_verify(r, &pk, NULL, NULL), VMP_ERR_NO_SIGNATURE);
    vmp_reader_destroy(r);
    char err[512];
    if (vmp_container_sign(p, &sk, err, sizeof err))
        fail_msg("sign: %s", err);
    r = open_ok(p);
    uint8_t md1[32];
    vmp_reader_manifest_digest(r, md1);
    assert_memory_equal(md0, md1, 32);
    struct vmp_container_stats st1;
    vmp_reader_stats(r, &st1);
    assert_int_equal(st1.blobs, st0.blobs + 1);
    assert_int_equal(st1.signatures, 1);
    struct vmp_signature_info si;
    assert_int_equal(vmp_reader_signature_info(r, 0, &si), 0);
    assert_memory_equal(si.public_key.bytes, pk.bytes, 32);
    assert_int_equal(vmp_reader_verify(r, &pk, NULL, NULL), 0);
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), 0);
    vmp_reader_destroy(r);
    /* a second key adds a signature; the same key again replaces its own */
    struct vmp_public_key pk2;
    struct vmp_secret_key sk2;
    vmp_key_generate(&sk2, &pk2);
    assert_int_equal(vmp_container_sign(p, &sk2, err, sizeof err), 0);
    assert_int_equal(vmp_container_sign(p, &sk, err, sizeof err), 0);
    r = open_ok(p);
    assert_int_equal(vmp_reader_signature_count(r), 2);
    assert_int_equal(vmp_reader_verify(r, &pk, NULL, NULL), 0);
    assert_int_equal(vmp_reader_verify(r, &pk2, NULL, NULL), 0);
    vmp_reader_destroy(r);
}

static void test_sign_verify_wrong_key(void **state)
{
    const char *p = tpath(*state, "c.vmpack");
    struct vmp_public_key pk, other;
    struct vmp_secret_key sk, osk;
    vmp_key_generate(&osk, &other);
    vmp_reader *r = sign_new_key(p, &sk, &pk);
    assert_int_equal(vmp_reader_verify(r, &other, NULL, NULL), VMP_ERR_NO_SIGNATURE);
    char id[VMP_KEY_ID_TEXT];
    vmp_key_id(&other, id);
    assert_non_null(strstr(vmp_reader_errmsg(r), id));
    vmp_reader_destroy(r);
}

/* A signature blob, well formed and with a correct blob digest, whose
 * Ed25519 signature is wrong. */
static void test_sign_wrong_signature(void **state)
{
    const char *p = tpath(*state, "c.vmpack");
    struct vmp_public_key pk;
    struct vmp_secret_key sk;
    char err[512];
    vmp_reader *r = sign_new_key(p, &sk, &pk);
    struct vmp_signature_info si;
    vmp_reader_signature_info(r, 0, &si);
    vmp_reader_destroy(r);
    struct tedit t;
    tedit_load(&t, p);
    struct tmember *m = tedit_blob(&t, si.digest);
    assert_non_null(m);
    m->data[m->len] = 0;
    char *s = strdup((char *)m->data);
    char *sig = strstr(s, "\"signature\":\"");
    assert_non_null(sig);
    sig += 13;
    sig[3] = sig[3] == 'A' ? 'B' : 'A'; /* still base64 of 64 bytes */
    tedit_replace_blob(&t, si.digest, s, strlen(s));
    free(s);
    tedit_save(&t, p);
    tedit_free(&t);
    r = open_ok(p);
    assert_int_equal(vmp_reader_verify(r, &pk, NULL, NULL), VMP_ERR_SIGNATURE);
    assert_non_null(strstr(vmp_reader_errmsg(r), "does not verify"));
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), VMP_ERR_SIGNATURE);
    vmp_reader_destroy(r);
    /* signing refuses a container whose signatures do not verify */
    assert_int_equal(vmp_container_sign(p, &sk, err, sizeof err), VMP_ERR_SIGNATURE);
}

/* A valid signature, but over another manifest: changing any blob changes
 * the manifest, so the old signature no longer applies. */
static void test_sign_signature_of_other_manifest(void **state)
{
    const char *p = tpath(*state, "c.vmpack");
    struct vmp_public_key pk;
    struct vmp_secret_key sk;
    vmp_reader *r = sign_new_key(p, &sk, &pk);
    struct vmp_section_info sec;
    vmp_reader_section_info(r, 1, &sec);
    vmp_reader_destroy(r);
    struct tedit t;
    tedit_load(&t, p);
    assert_int_equal(tedit_replace_blob(&t, sec.digest, "tampered uart", 13), 0);
    tedit_save(&t, p);
    tedit_free(&t);
    r = open_ok(p);
    assert_int_equal(vmp_reader_verify(r, &pk, NULL, NULL), VMP_ERR_SIGNATURE);
    vmp_reader_destroy(r);
}

static void test_sign_digest_message_is_domain_separated(void **state)
{
    (void)state;
    struct vmp_public_key pk;
    struct vmp_secret_key sk;
    vmp_key_generate(&sk, &pk);
    uint8_t d[32] = {1, 2, 3}, sig[64];
    vmp_sign_digest(&sk, d, sig);
    assert_int_equal(vmp_verify_digest(&pk, d, sig), 0);
    /* the bare digest text alone is not what was signed */
    char t[VMP_DIGEST_TEXT];
    vmp_digest_to_text(d, t);
    assert_int_not_equal(crypto_sign_verify_detached(sig, (const unsigned char *)t, 71, pk.bytes), 0);
    char m[96];
    size_t n = sig_message(d, m);
    assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)m, n, pk.bytes), 0);
    d[0] ^= 1;
    assert_int_equal(vmp_verify_digest(&pk, d, sig), VMP_ERR_SIGNATURE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_key_text_roundtrip),
        cmocka_unit_test(test_sign_key_text_malformed),
        cmocka_unit_test_setup_teardown(test_sign_verify_ok_keeps_blobs, setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_sign_verify_wrong_key, setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_sign_wrong_signature, setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_sign_signature_of_other_manifest, setup, tmp_teardown),
        cmocka_unit_test(test_sign_digest_message_is_domain_separated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
