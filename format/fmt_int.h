/*
 * fmt_int.h - what the files of libvmpack share and nothing outside sees:
 * byte order, checked arithmetic, a growable string buffer with JSON
 * escaping, a digest-keyed hash table, the tar layer, the JSON parser, and
 * the reader's structure (the writer copies blobs out of readers).
 */
#ifndef VMP_FMT_INT_H
#define VMP_FMT_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vmpack/vmpack.h>

#define FMT_ERRMSG_MAX 512

/* printf into a fixed message buffer; returns status, for "return fmt_err(...)". */
int fmt_err(char *msg, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int fmt_verr(char *msg, int status, const char *fmt, va_list ap);

/* ---- little-endian ---------------------------------------------------- */
static inline void le16_put(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void le32_put(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void le64_put(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t le16_get(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t le32_get(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64_get(const uint8_t *p) { return le32_get(p) | (uint64_t)le32_get(p + 4) << 32; }

/* ---- SHA-256, streaming --------------------------------------------------
 * OpenSSL's libcrypto when the build found it (it uses the SHA extensions
 * of the CPU: ~20x libsodium's portable code on this project's hosts, and
 * hashing is most of the cost of reading a chunk), else libsodium. */
struct fmt_sha {
    void *ctx;                  /* EVP_MD_CTX, or a crypto_hash_sha256_state */
};
int fmt_sha_init(struct fmt_sha *h);   /* 0 or VMP_ERR_NOMEM */
void fmt_sha_update(struct fmt_sha *h, const void *p, size_t n);
void fmt_sha_final(struct fmt_sha *h, uint8_t d[VMP_DIGEST_BYTES]); /* also frees */

/* ---- strings ------------------------------------------------------------ */
struct strbuf {
    char *p;
    size_t len, cap;
    int oom;    /* sticky: any failed growth; the content is then unusable */
};
void sb_free(struct strbuf *b);
void sb_putn(struct strbuf *b, const char *s, size_t n);
void sb_puts(struct strbuf *b, const char *s);
void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_str(struct strbuf *b, const char *s); /* quoted, escaped */
void sb_digest(struct strbuf *b, const uint8_t d[VMP_DIGEST_BYTES]); /* quoted "sha256:..." */

/* The byte offset of the first sequence in s that is not UTF-8 (RFC 3629:
 * no overlong forms, surrogates or code points above U+10FFFF), or
 * SIZE_MAX if all of s is: what the reader's JSON accepts in a string.
 * The writer escapes control characters itself. */
size_t fmt_utf8_bad(const char *s);

/* 1 if s is 1..VMP_NAME_MAX-1 bytes of [A-Za-z0-9._/-] (spec/container.md 4.1). */
int fmt_name_ok(const char *s);

/* ---- digest-keyed hash table ------------------------------------------- */
struct dmap_ent {
    uint8_t key[VMP_DIGEST_BYTES];
    uint64_t a, b;
    int used;
};
struct dmap {
    struct dmap_ent *t;
    size_t cap, n;
};
void dmap_free(struct dmap *m);
/* The entry for key, or NULL. */
struct dmap_ent *dmap_get(const struct dmap *m, const uint8_t key[VMP_DIGEST_BYTES]);
/* Inserts (or returns the existing entry). NULL on allocation failure. */
struct dmap_ent *dmap_put(struct dmap *m, const uint8_t key[VMP_DIGEST_BYTES], int *fresh);

/* ---- tar (spec/container.md 2) ----------------------------------------- */
enum tar_kind { TAR_OTHER, TAR_OCI_LAYOUT, TAR_INDEX_JSON, TAR_BLOB };
struct tar_member {
    int kind;
    uint8_t digest[VMP_DIGEST_BYTES];   /* TAR_BLOB */
    uint64_t hdr_off;                   /* first header (pax included) */
    uint64_t data_off;
    uint64_t size;
};
/* Indexes the members of the tar in fd (spec/container.md 2.2). Only
 * recognised members are returned, in file order. */
int tar_index(int fd, uint64_t file_size, struct tar_member **out, size_t *n, char *msg);
/* A 512-byte ustar header (spec/container.md 2.1). typeflag '0' or '5'. */
void tar_header(uint8_t h[512], const char *name, uint64_t size, char typeflag);

/* ---- JSON (RFC 8259, spec/container.md 4) ------------------------------ */
enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };
struct jnode {
    uint8_t type;
    uint32_t next;      /* next sibling, 0: none (node 0 is always the root) */
    uint32_t child;     /* first child of arrays/objects, 0: none */
    uint32_t count;     /* children */
    uint32_t key_off, key_len;  /* member name (raw, between quotes) */
    uint32_t off, len;          /* strings: raw content between quotes */
    uint64_t num;
};
struct jdoc {
    const char *text;
    struct jnode *n;
    uint32_t nn, cap;
};
#define JSON_MAX_DEPTH 32
#define JSON_MAX_NODES (1u << 20)
/* Parses text (not NUL-terminated); the doc points into text. Errors are
 * written as "<what> at byte N: ..." to msg (FMT_ERRMSG_MAX). */
int json_parse(const char *text, size_t len, struct jdoc *d, char *msg, const char *what);
void json_free(struct jdoc *d);
static inline const struct jnode *json_root(const struct jdoc *d) { return &d->n[0]; }
const struct jnode *json_get(const struct jdoc *d, const struct jnode *obj, const char *key);
const struct jnode *json_first(const struct jdoc *d, const struct jnode *arr);
const struct jnode *json_next(const struct jdoc *d, const struct jnode *it);
/* Decodes a string node into buf (NUL-terminated). -1 if not a string, it
 * does not fit, or contains \u0000. */
int json_str(const struct jdoc *d, const struct jnode *s, char *buf, size_t buflen);
/* 1 if node is a string equal to lit (no escapes). */
int json_str_is(const struct jdoc *d, const struct jnode *s, const char *lit);

/* ---- the reader's internals, shared with the writer and sign.c -------- */
struct rd_chunk {               /* an entry of a chunk index (spec/container.md 5.2) */
    uint64_t offset;
    uint32_t usize;
    uint64_t csize;
    uint8_t udigest[VMP_DIGEST_BYTES];
    uint8_t cdigest[VMP_DIGEST_BYTES];
    uint64_t data_off;          /* of the blob in the file */
};
struct rd_image {
    struct vmp_image_info info;
    uint64_t index_size;
    struct rd_chunk *chunks;    /* sorted by offset */
    uint64_t nchunks;
};
struct rd_section {
    struct vmp_section_info info;
    uint64_t data_off;
};
struct rd_sig {
    struct vmp_signature_info info;
    uint8_t manifest[VMP_DIGEST_BYTES];
    uint8_t sig[VMP_SIGNATURE_BYTES];
};
struct rd_boot {
    int present;
    uint64_t size, data_off;
    uint8_t digest[VMP_DIGEST_BYTES];
};
struct vmp_reader {
    int fd;
    uint64_t file_size;
    struct tar_member *m;       /* recognised members in file order */
    size_t nm;
    struct tar_member **blobs;  /* TAR_BLOB members sorted by digest */
    size_t nblobs;
    uint8_t manifest_digest[VMP_DIGEST_BYTES];
    uint64_t manifest_size;
    struct vmp_config cfg;
    struct rd_boot boot[2];
    struct rd_image img[VMP_MAX_IMAGES];
    unsigned nimg;
    struct rd_section sec[VMP_MAX_SECTIONS];
    unsigned nsec;
    struct rd_sig sig[VMP_MAX_SIGNATURES];
    unsigned nsig;
    pthread_mutex_t lock;       /* guards errmsg in thread-safe calls */
    char errmsg[FMT_ERRMSG_MAX];
};
/* The index entry of chunk idx, or NULL for a zero chunk. */
const struct rd_chunk *rd_chunk_at(const struct rd_image *im, uint64_t idx);
/* The member holding blob d, or NULL. */
const struct tar_member *rd_blob(const vmp_reader *r, const uint8_t d[VMP_DIGEST_BYTES]);
/* Reads and digest-checks a whole blob of at most max bytes into a new buffer. */
int rd_read_blob(vmp_reader *r, const uint8_t d[VMP_DIGEST_BYTES], uint64_t max, const char *what,
                 uint8_t **out, size_t *len);
/* Hashes size bytes of the file at off and compares to d. */
int rd_check_range(vmp_reader *r, uint64_t off, uint64_t size, const uint8_t d[VMP_DIGEST_BYTES],
                   const char *what, char *msg);
/* pread exactly n bytes; on a short file VMP_ERR_TRUNCATED. */
int fmt_pread_full(int fd, void *buf, size_t n, uint64_t off, char *msg, const char *what);
int fmt_pwrite_full(int fd, const void *buf, size_t n, uint64_t off, char *msg);

/* The signed message (spec/container.md 7.1). */
#define SIG_PREFIX "vmpack-signature-v1\n"
size_t sig_message(const uint8_t digest[VMP_DIGEST_BYTES], char out[96]);

/* writer.c: rewrite r's container at path with its blobs byte for byte,
 * the signature blobs whose digests are in keep[], and one new signature
 * blob (spec/container.md 7.1). */
int writer_resign(vmp_reader *r, const char *path, const uint8_t (*keep)[VMP_DIGEST_BYTES],
                  size_t nkeep, const void *sigblob, size_t siglen, char *msg);

#endif
