/*
 * vmpack/sign.h - Ed25519 keys and container signatures (libsodium).
 *
 * Keys are plain values. Their text files (spec/container.md 7.2):
 *   vmpack-ed25519-secret-key v1\n<base64 of the 64-byte secret key>\n
 *   vmpack-ed25519-public-key v1\n<base64 of the 32-byte public key>\n
 * A key id is the first 8 bytes of SHA-256(public key) in lowercase hex.
 *
 * Lifecycle:
 *   1. vmp_key_generate(&sk, &pk) or vmp_key_*_from_text(file contents);
 *   2. vmp_key_*_to_text to save; vmp_key_id to name a key;
 *   3. vmp_container_sign(path, &sk, ...) adds a signature to a container
 *      and atomically rewrites it; vmp_reader_verify checks it.
 * Secret keys should be wiped by the caller (sodium_memzero) after use.
 * Thread safety: all functions are safe from any thread.
 */
#ifndef VMPACK_SIGN_H
#define VMPACK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMP_PUBLIC_KEY_BYTES 32
#define VMP_SECRET_KEY_BYTES 64
#define VMP_SIGNATURE_BYTES 64
#define VMP_KEY_ID_TEXT 17              /* 16 hex + NUL */
#define VMP_KEY_TEXT_MAX 160            /* a key file, with the NUL */

struct vmp_public_key {
    uint8_t bytes[VMP_PUBLIC_KEY_BYTES];
};
struct vmp_secret_key {
    uint8_t bytes[VMP_SECRET_KEY_BYTES]; /* libsodium layout: seed || public key */
};

/* 0, or VMP_ERR_UNSUPPORTED if libsodium cannot initialise. */
int vmp_key_generate(struct vmp_secret_key *sk, struct vmp_public_key *pk);
void vmp_key_public_from_secret(const struct vmp_secret_key *sk, struct vmp_public_key *pk);
void vmp_key_id(const struct vmp_public_key *pk, char id[VMP_KEY_ID_TEXT]);

/* Text forms. to_text: 0, or VMP_ERR_INVALID if buflen < VMP_KEY_TEXT_MAX.
 * from_text: 0, or VMP_ERR_KEY with a message in err (errlen may be 0);
 * a secret key whose embedded public half does not match its seed is
 * refused. */
int vmp_key_secret_to_text(const struct vmp_secret_key *sk, char *buf, size_t buflen);
int vmp_key_public_to_text(const struct vmp_public_key *pk, char *buf, size_t buflen);
int vmp_key_secret_from_text(const char *text, size_t len, struct vmp_secret_key *sk, char *err,
                             size_t errlen);
int vmp_key_public_from_text(const char *text, size_t len, struct vmp_public_key *pk, char *err,
                             size_t errlen);

/*
 * Signs the container at path: checks every blob (as vmp_reader_verify),
 * then rewrites the file atomically with a signature blob over the
 * manifest digest added to index.json (spec/container.md 7). Blobs,
 * manifest and earlier signatures are kept byte for byte; a second
 * signature by the same key replaces the first. Errors as vmp_reader_open
 * and vmp_writer_commit, message in err.
 */
int vmp_container_sign(const char *path, const struct vmp_secret_key *sk, char *err,
                       size_t errlen);

/* The detached signature itself, for tests and tools: Ed25519 over
 * "vmpack-signature-v1\n" + "sha256:<hex>" of the manifest digest
 * (spec/container.md 7.1). verify: 0 or VMP_ERR_SIGNATURE. */
void vmp_sign_digest(const struct vmp_secret_key *sk, const uint8_t digest[32],
                     uint8_t sig[VMP_SIGNATURE_BYTES]);
int vmp_verify_digest(const struct vmp_public_key *pk, const uint8_t digest[32],
                      const uint8_t sig[VMP_SIGNATURE_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
