/*
 * sign.c - Ed25519 keys, their text files, and container signatures
 * (spec/container.md 7), on libsodium.
 */
#include "fmt_int.h"

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#define SK_HEADER "vmpack-ed25519-secret-key v1\n"
#define PK_HEADER "vmpack-ed25519-public-key v1\n"

static int sodium_ready(void) { return sodium_init() >= 0 ? 0 : VMP_ERR_UNSUPPORTED; }

int vmp_key_generate(struct vmp_secret_key *sk, struct vmp_public_key *pk)
{
    if (sodium_ready())
        return VMP_ERR_UNSUPPORTED;
    crypto_sign_keypair(pk->bytes, sk->bytes);
    return 0;
}

void vmp_key_public_from_secret(const struct vmp_secret_key *sk, struct vmp_public_key *pk)
{
    crypto_sign_ed25519_sk_to_pk(pk->bytes, sk->bytes);
}

/* spec/container.md 7.2: first 8 bytes of SHA-256(public key), hex */
void vmp_key_id(const struct vmp_public_key *pk, char id[VMP_KEY_ID_TEXT])
{
    uint8_t d[VMP_DIGEST_BYTES];
    vmp_sha256(pk->bytes, VMP_PUBLIC_KEY_BYTES, d);
    sodium_bin2hex(id, VMP_KEY_ID_TEXT, d, 8);
}

static int key_to_text(const char *hdr, const uint8_t *k, size_t n, char *buf, size_t buflen)
{
    if (buflen < VMP_KEY_TEXT_MAX)
        return VMP_ERR_INVALID;
    char b64[sodium_base64_ENCODED_LEN(VMP_SECRET_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, k, n, sodium_base64_VARIANT_ORIGINAL);
    snprintf(buf, buflen, "%s%s\n", hdr, b64);
    sodium_memzero(b64, sizeof b64);
    return 0;
}

int vmp_key_secret_to_text(const struct vmp_secret_key *sk, char *buf, size_t buflen)
{
    return key_to_text(SK_HEADER, sk->bytes, VMP_SECRET_KEY_BYTES, buf, buflen);
}

int vmp_key_public_to_text(const struct vmp_public_key *pk, char *buf, size_t buflen)
{
    return key_to_text(PK_HEADER, pk->bytes, VMP_PUBLIC_KEY_BYTES, buf, buflen);
}

/* spec/container.md 7.2: header line, one base64 line, nothing else. */
static int key_from_text(const char *hdr, const char *what, const char *text, size_t len, uint8_t *out,
                         size_t n, char *err, size_t errlen)
{
    size_t hl = strlen(hdr);
    char tmp[FMT_ERRMSG_MAX];
    if (len < hl || memcmp(text, hdr, hl)) {
        snprintf(tmp, sizeof tmp, "%s: first line is not \"%.*s\"", what, (int)hl - 1, hdr);
        goto bad;
    }
    const char *b = text + hl;
    size_t bl = len - hl;
    const char *nl = memchr(b, '\n', bl);
    if (!nl || (size_t)(nl - b) + 1 != bl) {
        snprintf(tmp, sizeof tmp, "%s: expected one base64 line after the header, ending in a newline", what);
        goto bad;
    }
    size_t got = 0;
    if (sodium_base642bin(out, n, b, (size_t)(nl - b), NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) ||
        got != n) {
        snprintf(tmp, sizeof tmp, "%s: base64 line does not decode to %zu bytes", what, n);
        goto bad;
    }
    return 0;
bad:
    if (err && errlen)
        snprintf(err, errlen, "%s", tmp);
    return VMP_ERR_KEY;
}

int vmp_key_secret_from_text(const char *text, size_t len, struct vmp_secret_key *sk, char *err,
                             size_t errlen)
{
    int rc = key_from_text(SK_HEADER, "secret key", text, len, sk->bytes, VMP_SECRET_KEY_BYTES, err, errlen);
    if (rc)
        return rc;
    /* the public half must be the one the seed gives */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk2, sk->bytes);
    int same = sodium_memcmp(sk2, sk->bytes, sizeof sk2) == 0;
    sodium_memzero(sk2, sizeof sk2);
    if (!same) {
        sodium_memzero(sk->bytes, sizeof sk->bytes);
        if (err && errlen)
            snprintf(err, errlen, "secret key: public half does not match the seed");
        return VMP_ERR_KEY;
    }
    return 0;
}

int vmp_key_public_from_text(const char *text, size_t len, struct vmp_public_key *pk, char *err,
                             size_t errlen)
{
    return key_from_text(PK_HEADER, "public key", text, len, pk->bytes, VMP_PUBLIC_KEY_BYTES, err, errlen);
}

void vmp_sign_digest(const struct vmp_secret_key *sk, const uint8_t digest[32], uint8_t sig[VMP_SIGNATURE_BYTES])
{
    char m[96];
    size_t n = sig_message(digest, m);
    crypto_sign_detached(sig, NULL, (const unsigned char *)m, n, sk->bytes);
}

int vmp_verify_digest(const struct vmp_public_key *pk, const uint8_t digest[32],
                      const uint8_t sig[VMP_SIGNATURE_BYTES])
{
    char m[96];
    size_t n = sig_message(digest, m);
    if (sodium_ready())
        return VMP_ERR_UNSUPPORTED;
    return crypto_sign_verify_detached(sig, (const unsigned char *)m, n, pk->bytes) ? VMP_ERR_SIGNATURE : 0;
}

/* spec/container.md 7.1 */
int vmp_container_sign(const char *path, const struct vmp_secret_key *sk, char *err, size_t errlen)
{
    char msg[FMT_ERRMSG_MAX] = "";
    vmp_reader *r = NULL;
    int rc;
    if ((rc = sodium_ready())) {
        fmt_err(msg, rc, "libsodium cannot initialise");
        goto out;
    }
    if ((rc = vmp_reader_create(&r))) {
        fmt_err(msg, rc, "out of memory");
        goto out;
    }
    if ((rc = vmp_reader_open(r, path)) || (rc = vmp_reader_verify(r, NULL, NULL, NULL))) {
        fmt_err(msg, rc, "%s", vmp_reader_errmsg(r));
        goto out;
    }
    struct vmp_public_key pk;
    vmp_key_public_from_secret(sk, &pk);
    uint8_t keep[VMP_MAX_SIGNATURES][VMP_DIGEST_BYTES];
    size_t nkeep = 0;
    for (unsigned i = 0; i < r->nsig; i++)
        if (memcmp(r->sig[i].info.public_key.bytes, pk.bytes, VMP_PUBLIC_KEY_BYTES))
            memcpy(keep[nkeep++], r->sig[i].info.digest, VMP_DIGEST_BYTES);
    if (nkeep >= VMP_MAX_SIGNATURES) {
        rc = fmt_err(msg, VMP_ERR_LIMIT, "%s: already %zu signatures", path, nkeep);
        goto out;
    }
    uint8_t sig[VMP_SIGNATURE_BYTES];
    vmp_sign_digest(sk, r->manifest_digest, sig);
    char id[VMP_KEY_ID_TEXT], md[VMP_DIGEST_TEXT];
    char pk64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    char sig64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    vmp_key_id(&pk, id);
    vmp_digest_to_text(r->manifest_digest, md);
    sodium_bin2base64(pk64, sizeof pk64, pk.bytes, 32, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(sig64, sizeof sig64, sig, 64, sodium_base64_VARIANT_ORIGINAL);
    char blob[1024];
    int n = snprintf(blob, sizeof blob,
                     "{\"mediaType\":\"" VMP_MT_SIGNATURE "\",\"algorithm\":\"ed25519\",\"key_id\":\"%s\","
                     "\"public_key\":\"%s\",\"manifest\":\"%s\",\"signature\":\"%s\"}",
                     id, pk64, md, sig64);
    rc = writer_resign(r, path, (const uint8_t(*)[VMP_DIGEST_BYTES])keep, nkeep, blob, (size_t)n, msg);
out:
    if (rc && err && errlen)
        snprintf(err, errlen, "%s", msg);
    vmp_reader_destroy(r);
    return rc;
}
