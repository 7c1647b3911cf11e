/* fmt_util.c - small shared pieces of libvmpack: messages, string buffers,
 * digests, a digest-keyed hash table, full pread/pwrite. */
#include "fmt_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>
#ifdef VMP_HAVE_LIBCRYPTO
#include <openssl/evp.h>
#endif

int fmt_verr(char *msg, int status, const char *fmt, va_list ap)
{
    if (msg)
        vsnprintf(msg, FMT_ERRMSG_MAX, fmt, ap);
    return status;
}

int fmt_err(char *msg, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_verr(msg, status, fmt, ap);
    va_end(ap);
    return status;
}

/* ---- strbuf ------------------------------------------------------------- */
static int sb_grow(struct strbuf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void sb_free(struct strbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void sb_putn(struct strbuf *b, const char *s, size_t n)
{
    if (sb_grow(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void sb_puts(struct strbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->oom = 1; /* only short numeric formats are used */
        return;
    }
    sb_putn(b, tmp, (size_t)n);
}

/* RFC 8259 7: escape '"', '\\' and control characters; bytes >= 0x80 pass
 * through (callers hand in UTF-8). */
void sb_json_str(struct strbuf *b, const char *s)
{
    sb_putn(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_putn(b, e, 2);
        } else if (c == '\n') {
            sb_putn(b, "\\n", 2);
        } else if (c == '\t') {
            sb_putn(b, "\\t", 2);
        } else if (c < 0x20) {
            sb_printf(b, "\\u%04x", c);
        } else {
            sb_putn(b, (const char *)&c, 1);
        }
    }
    sb_putn(b, "\"", 1);
}

void sb_digest(struct strbuf *b, const uint8_t d[VMP_DIGEST_BYTES])
{
    char t[VMP_DIGEST_TEXT];
    vmp_digest_to_text(d, t);
    sb_putn(b, "\"", 1);
    sb_puts(b, t);
    sb_putn(b, "\"", 1);
}

int fmt_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= VMP_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return 0;
    }
    /* components must be non-empty and not "." or "..": names may become
     * file names in tools */
    for (const char *c = s; *c;) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!e)
            break;
        c = e + 1;
        if (!*c)
            return 0;
    }
    return 1;
}

/* ---- digests ------------------------------------------------------------ */
void vmp_sha256(const void *data, size_t len, uint8_t d[VMP_DIGEST_BYTES])
{
#ifdef VMP_HAVE_LIBCRYPTO
    unsigned n = VMP_DIGEST_BYTES;
    if (EVP_Digest(data, len, d, &n, EVP_sha256(), NULL) == 1)
        return;
#endif
    crypto_hash_sha256(d, data, len);
}

int fmt_sha_init(struct fmt_sha *h)
{
#ifdef VMP_HAVE_LIBCRYPTO
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return VMP_ERR_NOMEM;
    if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        return VMP_ERR_NOMEM;
    }
    h->ctx = c;
#else
    crypto_hash_sha256_state *st = malloc(sizeof *st);
    if (!st)
        return VMP_ERR_NOMEM;
    crypto_hash_sha256_init(st);
    h->ctx = st;
#endif
    return 0;
}

void fmt_sha_update(struct fmt_sha *h, const void *p, size_t n)
{
#ifdef VMP_HAVE_LIBCRYPTO
    EVP_DigestUpdate(h->ctx, p, n);
#else
    crypto_hash_sha256_update(h->ctx, p, n);
#endif
}

void fmt_sha_final(struct fmt_sha *h, uint8_t d[VMP_DIGEST_BYTES])
{
#ifdef VMP_HAVE_LIBCRYPTO
    unsigned n = VMP_DIGEST_BYTES;
    EVP_DigestFinal_ex(h->ctx, d, &n);
    EVP_MD_CTX_free(h->ctx);
#else
    crypto_hash_sha256_final(h->ctx, d);
    free(h->ctx);
#endif
    h->ctx = NULL;
}

void vmp_digest_to_text(const uint8_t d[VMP_DIGEST_BYTES], char out[VMP_DIGEST_TEXT])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < VMP_DIGEST_BYTES; i++) {
        out[7 + 2 * i] = hex[d[i] >> 4];
        out[8 + 2 * i] = hex[d[i] & 15];
    }
    out[71] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* spec/container.md 1: lowercase only */
}

int vmp_digest_from_text(const char *text, uint8_t d[VMP_DIGEST_BYTES])
{
    if (!text || strncmp(text, "sha256:", 7) != 0 || strlen(text) != 71)
        return VMP_ERR_FORMAT;
    for (int i = 0; i < VMP_DIGEST_BYTES; i++) {
        int hi = hexval(text[7 + 2 * i]), lo = hexval(text[8 + 2 * i]);
        if (hi < 0 || lo < 0)
            return VMP_ERR_FORMAT;
        d[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void vmp_config_init(struct vmp_config *c)
{
    memset(c, 0, sizeof *c);
    c->format_version = VMP_FORMAT_VERSION;
}

/* ---- dmap: open addressing, linear probing; digests are uniform ------- */
static size_t dmap_slot(const uint8_t *key, size_t cap)
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return (size_t)(h & (cap - 1));
}

void dmap_free(struct dmap *m)
{
    free(m->t);
    memset(m, 0, sizeof *m);
}

struct dmap_ent *dmap_get(const struct dmap *m, const uint8_t key[VMP_DIGEST_BYTES])
{
    if (!m->cap)
        return NULL;
    for (size_t i = dmap_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        struct dmap_ent *e = &m->t[i];
        if (!e->used)
            return NULL;
        if (memcmp(e->key, key, VMP_DIGEST_BYTES) == 0)
            return e;
    }
}

struct dmap_ent *dmap_put(struct dmap *m, const uint8_t key[VMP_DIGEST_BYTES], int *fresh)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct dmap_ent *t = calloc(cap, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->t[i].used)
                continue;
            size_t j = dmap_slot(m->t[i].key, cap);
            while (t[j].used)
                j = (j + 1) & (cap - 1);
            t[j] = m->t[i];
        }
        free(m->t);
        m->t = t;
        m->cap = cap;
    }
    size_t i = dmap_slot(key, m->cap);
    while (m->t[i].used) {
        if (memcmp(m->t[i].key, key, VMP_DIGEST_BYTES) == 0) {
            if (fresh)
                *fresh = 0;
            return &m->t[i];
        }
        i = (i + 1) & (m->cap - 1);
    }
    struct dmap_ent *e = &m->t[i];
    memset(e, 0, sizeof *e);
    memcpy(e->key, key, VMP_DIGEST_BYTES);
    e->used = 1;
    m->n++;
    if (fresh)
        *fresh = 1;
    return e;
}

/* ---- full pread/pwrite --------------------------------------------------- */
int fmt_pread_full(int fd, void *buf, size_t n, uint64_t off, char *msg, const char *what)
{
    uint8_t *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, p + done, n - done, (off_t)(off + done));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return fmt_err(msg, VMP_ERR_IO, "%s at 0x%llx: read: %s", what,
                           (unsigned long long)(off + done), strerror(errno));
        }
        if (k == 0)
            return fmt_err(msg, VMP_ERR_TRUNCATED, "%s at 0x%llx: file ends after %zu of %zu bytes",
                           what, (unsigned long long)off, done, n);
        done += (size_t)k;
    }
    return 0;
}

int fmt_pwrite_full(int fd, const void *buf, size_t n, uint64_t off, char *msg)
{
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t k = pwrite(fd, p + done, n - done, (off_t)(off + done));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return fmt_err(msg, VMP_ERR_IO, "write at 0x%llx: %s",
                           (unsigned long long)(off + done), strerror(errno));
        }
        done += (size_t)k;
    }
    return 0;
}

size_t sig_message(const uint8_t digest[VMP_DIGEST_BYTES], char out[96])
{
    char t[VMP_DIGEST_TEXT];
    vmp_digest_to_text(digest, t);
    size_t n = strlen(SIG_PREFIX);
    memcpy(out, SIG_PREFIX, n);
    memcpy(out + n, t, 71);
    return n + 71;
}
