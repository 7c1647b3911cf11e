/*
 * reader.c - opens a container (spec/container.md): indexes the tar,
 * parses index.json, the manifest, the config and the chunk indexes, each
 * checked against its digest before it is parsed; then serves chunks by
 * pread on demand (5.3), sections, boot blobs, and a full verify.
 */
#include "fmt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>
#include <zstd_errors.h>

#define INDEX_JSON_MAX (1u << 20)
#define MANIFEST_MAX (32u << 20)
#define CONFIG_MAX (1u << 20)
#define SIGBLOB_MAX 4096u
#define OCI_LAYOUT_MAX 4096u

enum { L_CHUNK = 1, L_INDEX, L_SECTION, L_KERNEL, L_INITRD, L_OTHER };

static int r_fail(vmp_reader *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int r_fail(vmp_reader *r, int status, const char *fmt, ...)
{
    char m[FMT_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->lock);
    memcpy(r->errmsg, m, sizeof m);
    pthread_mutex_unlock(&r->lock);
    return status;
}

int vmp_reader_create(vmp_reader **out)
{
    *out = NULL;
    vmp_reader *r = calloc(1, sizeof *r);
    if (!r)
        return VMP_ERR_NOMEM;
    r->fd = -1;
    if (pthread_mutex_init(&r->lock, NULL)) {
        free(r);
        return VMP_ERR_NOMEM;
    }
    vmp_config_init(&r->cfg);
    *out = r;
    return 0;
}

void vmp_reader_destroy(vmp_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (unsigned i = 0; i < r->nimg; i++)
        free(r->img[i].chunks);
    free(r->m);
    free(r->blobs);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

const char *vmp_reader_errmsg(const vmp_reader *r) { return r ? r->errmsg : ""; }

/* ---- blobs --------------------------------------------------------------- */
static int blob_cmp(const void *a, const void *b)
{
    const struct tar_member *const *x = a, *const *y = b;
    return memcmp((*x)->digest, (*y)->digest, VMP_DIGEST_BYTES);
}

const struct tar_member *rd_blob(const vmp_reader *r, const uint8_t d[VMP_DIGEST_BYTES])
{
    size_t lo = 0, hi = r->nblobs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(r->blobs[mid]->digest, d, VMP_DIGEST_BYTES);
        if (c == 0)
            return r->blobs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct rd_chunk *rd_chunk_at(const struct rd_image *im, uint64_t idx)
{
    uint64_t off = idx * im->info.chunk_bytes;
    uint64_t lo = 0, hi = im->nchunks;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (im->chunks[mid].offset == off)
            return &im->chunks[mid];
        if (im->chunks[mid].offset < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char *dtext(const uint8_t d[VMP_DIGEST_BYTES], char t[VMP_DIGEST_TEXT])
{
    vmp_digest_to_text(d, t);
    return t;
}

int rd_check_range(vmp_reader *r, uint64_t off, uint64_t size, const uint8_t d[VMP_DIGEST_BYTES],
                   const char *what, char *msg)
{
    uint8_t *buf = malloc(1u << 20);
    if (!buf)
        return fmt_err(msg, VMP_ERR_NOMEM, "%s: out of memory", what);
    struct fmt_sha st;
    if (fmt_sha_init(&st)) {
        free(buf);
        return fmt_err(msg, VMP_ERR_NOMEM, "%s: out of memory", what);
    }
    int rc = 0;
    for (uint64_t done = 0; done < size && !rc; ) {
        size_t n = size - done > (1u << 20) ? (1u << 20) : (size_t)(size - done);
        rc = fmt_pread_full(r->fd, buf, n, off + done, msg, what);
        fmt_sha_update(&st, buf, n);
        done += n;
    }
    free(buf);
    uint8_t got[VMP_DIGEST_BYTES];
    fmt_sha_final(&st, got);
    if (rc)
        return rc;
    if (memcmp(got, d, VMP_DIGEST_BYTES)) {
        char t1[VMP_DIGEST_TEXT], t2[VMP_DIGEST_TEXT];
        return fmt_err(msg, VMP_ERR_DIGEST, "%s %s at 0x%llx: content hashes to %s", what,
                       dtext(d, t1), (unsigned long long)off, dtext(got, t2));
    }
    return 0;
}

/* Reads member m (at most max bytes) into a new buffer with a NUL after
 * its m->size bytes; *out is NULL on failure. */
static int read_member(vmp_reader *r, const struct tar_member *m, uint64_t max, const char *what,
                       char **out)
{
    *out = NULL;
    if (m->size > max)
        return r_fail(r, VMP_ERR_LIMIT, "%s at 0x%llx: %llu bytes, limit %llu", what,
                      (unsigned long long)m->hdr_off, (unsigned long long)m->size,
                      (unsigned long long)max);
    char *b = malloc(m->size + 1);
    if (!b)
        return r_fail(r, VMP_ERR_NOMEM, "%s: out of memory", what);
    char msg[FMT_ERRMSG_MAX];
    int rc = fmt_pread_full(r->fd, b, m->size, m->data_off, msg, what);
    if (rc) {
        free(b);
        return r_fail(r, rc, "%s", msg);
    }
    b[m->size] = 0;
    *out = b;
    return 0;
}

int rd_read_blob(vmp_reader *r, const uint8_t d[VMP_DIGEST_BYTES], uint64_t max, const char *what,
                 uint8_t **out, size_t *len)
{
    char t[VMP_DIGEST_TEXT], t2[VMP_DIGEST_TEXT], name[FMT_ERRMSG_MAX / 2];
    *out = NULL;
    const struct tar_member *m = rd_blob(r, d);
    if (!m)
        return r_fail(r, VMP_ERR_FORMAT, "%s %s: no such blob in the tar", what, dtext(d, t));
    snprintf(name, sizeof name, "%s %s", what, dtext(d, t));
    char *text;
    int rc = read_member(r, m, max, name, &text);
    if (rc)
        return rc;
    uint8_t *b = (uint8_t *)text, got[VMP_DIGEST_BYTES];
    vmp_sha256(b, m->size, got);
    if (memcmp(got, d, VMP_DIGEST_BYTES)) {
        free(b);
        return r_fail(r, VMP_ERR_DIGEST, "%s %s at 0x%llx: content hashes to %s", what, dtext(d, t),
                      (unsigned long long)m->hdr_off, dtext(got, t2));
    }
    *out = b;
    *len = m->size;
    return 0;
}

/* ---- JSON field helpers: errors name the document and the member ------- */
struct jctx {
    vmp_reader *r;
    const struct jdoc *d;
    const char *what;
};

static int j_u64(struct jctx *c, const struct jnode *o, const char *key, uint64_t max, uint64_t *v)
{
    const struct jnode *n = json_get(c->d, o, key);
    if (!n || n->type != J_NUM)
        return r_fail(c->r, VMP_ERR_FORMAT, "%s: member \"%s\": expected an integer, found %s",
                      c->what, key, n ? "another type" : "nothing");
    if (n->num > max)
        return r_fail(c->r, VMP_ERR_LIMIT, "%s: member \"%s\": %llu above the limit %llu", c->what,
                      key, (unsigned long long)n->num, (unsigned long long)max);
    *v = n->num;
    return 0;
}

static int j_str(struct jctx *c, const struct jnode *o, const char *key, char *buf, size_t len)
{
    const struct jnode *n = json_get(c->d, o, key);
    if (!n || json_str(c->d, n, buf, len))
        return r_fail(c->r, VMP_ERR_FORMAT, "%s: member \"%s\": expected a string of at most %zu bytes",
                      c->what, key, len - 1);
    return 0;
}

static int j_bool(struct jctx *c, const struct jnode *o, const char *key, int *v)
{
    const struct jnode *n = json_get(c->d, o, key);
    if (!n || (n->type != J_TRUE && n->type != J_FALSE))
        return r_fail(c->r, VMP_ERR_FORMAT, "%s: member \"%s\": expected true or false", c->what, key);
    *v = n->type == J_TRUE;
    return 0;
}

static int j_digest(struct jctx *c, const struct jnode *o, const char *key, uint8_t d[VMP_DIGEST_BYTES])
{
    char t[VMP_DIGEST_TEXT + 1];
    const struct jnode *n = json_get(c->d, o, key);
    if (!n || json_str(c->d, n, t, sizeof t) || vmp_digest_from_text(t, d))
        return r_fail(c->r, VMP_ERR_FORMAT, "%s: member \"%s\": expected a sha256:<64 hex> digest",
                      c->what, key);
    return 0;
}

static const struct jnode *j_type(struct jctx *c, const struct jnode *o, const char *key, int type,
                                  int *rc)
{
    const struct jnode *n = json_get(c->d, o, key);
    if (!n || n->type != type) {
        *rc = r_fail(c->r, VMP_ERR_FORMAT, "%s: member \"%s\": expected %s", c->what, key,
                     type == J_OBJ ? "an object" : "an array");
        return NULL;
    }
    *rc = 0;
    return n;
}

/* A descriptor {"digest","size"} whose blob the manifest lists as a layer
 * of media type lt with that size (spec/container.md 3.2). */
static int j_desc(struct jctx *c, struct dmap *layers, const struct jnode *o, int lt,
                  uint8_t d[VMP_DIGEST_BYTES], uint64_t *size, uint64_t max)
{
    int rc;
    if (!o || o->type != J_OBJ)
        return r_fail(c->r, VMP_ERR_FORMAT, "%s: expected a descriptor object", c->what);
    if ((rc = j_digest(c, o, "digest", d)) || (rc = j_u64(c, o, "size", max, size)))
        return rc;
    struct dmap_ent *e = dmap_get(layers, d);
    char t[VMP_DIGEST_TEXT];
    /* any media type: a blob with two roles is listed once (3.2) */
    (void)lt;
    if (!e)
        return r_fail(c->r, VMP_ERR_FORMAT, "%s: blob %s is not listed in the manifest", c->what,
                      dtext(d, t));
    if (e->a != *size)
        return r_fail(c->r, VMP_ERR_FORMAT, "%s: blob %s: size %llu, manifest says %llu", c->what,
                      dtext(d, t), (unsigned long long)*size, (unsigned long long)e->a);
    return 0;
}

/* ---- open: spec/container.md 2, 3 ------------------------------------------- */
static int parse_json(vmp_reader *r, const char *text, size_t len, struct jdoc *d, const char *what)
{
    char msg[FMT_ERRMSG_MAX];
    int rc = json_parse(text, len, d, msg, what);
    if (rc)
        return r_fail(r, rc, "%s", msg);
    if (json_root(d)->type != J_OBJ) {
        json_free(d);
        return r_fail(r, VMP_ERR_FORMAT, "%s: expected a JSON object", what);
    }
    return 0;
}

/* A JSON object read from tar member m: on success the caller frees
 * *text and json_free()s *d; on failure both are released. */
static int member_json(vmp_reader *r, const struct tar_member *m, uint64_t max, const char *what,
                       char **text, struct jdoc *d)
{
    int rc = read_member(r, m, max, what, text);
    if (!rc && (rc = parse_json(r, *text, m->size, d, what))) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* A JSON object read from blob dg, which its referrer (said_by) gave as
 * size bytes: the size, the digest, then the parse (spec/container.md 3).
 * Ownership as member_json. */
static int blob_json(vmp_reader *r, const uint8_t dg[VMP_DIGEST_BYTES], uint64_t size,
                     const char *said_by, uint64_t max, const char *what, char **text, struct jdoc *d)
{
    char t[VMP_DIGEST_TEXT];
    uint8_t *b;
    size_t len;
    *text = NULL;
    const struct tar_member *m = rd_blob(r, dg);
    if (m && m->size != size)
        return r_fail(r, VMP_ERR_FORMAT, "%s %s at 0x%llx: %llu bytes, %s says %llu", what,
                      dtext(dg, t), (unsigned long long)m->hdr_off, (unsigned long long)m->size,
                      said_by, (unsigned long long)size);
    int rc = rd_read_blob(r, dg, max, what, &b, &len);
    if (rc)
        return rc;
    if ((rc = parse_json(r, (const char *)b, len, d, what))) {
        free(b);
        return rc;
    }
    *text = (char *)b;
    return 0;
}

static int open_layout(vmp_reader *r, const struct tar_member *m)
{
    char *t;
    struct jdoc d;
    int rc = member_json(r, m, OCI_LAYOUT_MAX, "oci-layout", &t, &d);
    if (rc)
        return rc;
    if (!json_str_is(&d, json_get(&d, json_root(&d), "imageLayoutVersion"), "1.0.0"))
        rc = r_fail(r, VMP_ERR_FORMAT, "oci-layout: imageLayoutVersion is not \"1.0.0\"");
    json_free(&d);
    free(t);
    return rc;
}

static int b64_decode(const char *s, uint8_t *out, size_t want)
{
    size_t got = 0;
    if (sodium_base642bin(out, want, s, strlen(s), NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) ||
        got != want)
        return -1;
    return 0;
}

/* spec/container.md 7.1 */
static int open_signature(vmp_reader *r, const uint8_t d[VMP_DIGEST_BYTES], struct rd_sig *s)
{
    uint8_t *b;
    size_t len;
    char t[VMP_DIGEST_TEXT];
    int rc = rd_read_blob(r, d, SIGBLOB_MAX, "signature blob", &b, &len);
    if (rc)
        return rc;
    struct jdoc doc;
    char what[128];
    snprintf(what, sizeof what, "signature blob %s", dtext(d, t));
    if ((rc = parse_json(r, (const char *)b, len, &doc, what))) {
        free(b);
        return rc;
    }
    struct jctx c = {r, &doc, what};
    const struct jnode *o = json_root(&doc);
    char pk[128], sig[128], kid[VMP_KEY_ID_TEXT + 1];
    memset(s, 0, sizeof *s);
    memcpy(s->info.digest, d, VMP_DIGEST_BYTES);
    if (!json_str_is(&doc, json_get(&doc, o, "mediaType"), VMP_MT_SIGNATURE) ||
        !json_str_is(&doc, json_get(&doc, o, "algorithm"), "ed25519"))
        rc = r_fail(r, VMP_ERR_FORMAT, "%s: mediaType or algorithm is not %s, ed25519", what,
                    VMP_MT_SIGNATURE);
    if (!rc && !(rc = j_str(&c, o, "key_id", kid, sizeof kid)) &&
        !(rc = j_str(&c, o, "public_key", pk, sizeof pk)) &&
        !(rc = j_str(&c, o, "signature", sig, sizeof sig)) &&
        !(rc = j_digest(&c, o, "manifest", s->manifest))) {
        if (b64_decode(pk, s->info.public_key.bytes, VMP_PUBLIC_KEY_BYTES) ||
            b64_decode(sig, s->sig, VMP_SIGNATURE_BYTES)) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: public_key or signature is not base64 of 32/64 bytes",
                        what);
        } else {
            vmp_key_id(&s->info.public_key, s->info.key_id);
            if (strcmp(kid, s->info.key_id))
                rc = r_fail(r, VMP_ERR_FORMAT, "%s: key_id %s, the public key's id is %s", what, kid,
                            s->info.key_id);
        }
    }
    json_free(&doc);
    free(b);
    return rc;
}

static int open_index(vmp_reader *r, const struct tar_member *m)
{
    char *t;
    struct jdoc d;
    int rc = member_json(r, m, INDEX_JSON_MAX, "index.json", &t, &d);
    if (rc)
        return rc;
    struct jctx c = {r, &d, "index.json"};
    const struct jnode *root = json_root(&d), *mans, *desc;
    uint64_t v;
    if ((rc = j_u64(&c, root, "schemaVersion", 1000, &v)))
        goto out;
    if (v != 2) {
        rc = r_fail(r, VMP_ERR_FORMAT, "index.json: schemaVersion %llu, expected 2", (unsigned long long)v);
        goto out;
    }
    if (!(mans = j_type(&c, root, "manifests", J_ARR, &rc)))
        goto out;
    if (mans->count != 1) {
        rc = r_fail(r, VMP_ERR_FORMAT, "index.json: %u manifests, expected exactly 1", mans->count);
        goto out;
    }
    desc = json_first(&d, mans);
    if (desc->type != J_OBJ || !json_str_is(&d, json_get(&d, desc, "mediaType"), VMP_MT_OCI_MANIFEST)) {
        rc = r_fail(r, VMP_ERR_FORMAT, "index.json: manifest descriptor is not of media type %s",
                    VMP_MT_OCI_MANIFEST);
        goto out;
    }
    if ((rc = j_digest(&c, desc, "digest", r->manifest_digest)) ||
        (rc = j_u64(&c, desc, "size", MANIFEST_MAX, &r->manifest_size)))
        goto out;
    /* spec/container.md 3.1: org.vmpack.signatures */
    const struct jnode *ann = json_get(&d, root, "annotations");
    const struct jnode *sigs = ann && ann->type == J_OBJ ? json_get(&d, ann, "org.vmpack.signatures") : NULL;
    if (sigs) {
        char list[VMP_MAX_SIGNATURES * VMP_DIGEST_TEXT + 1];
        if (json_str(&d, sigs, list, sizeof list)) {
            rc = r_fail(r, VMP_ERR_FORMAT, "index.json: org.vmpack.signatures: not a list of at most %d digests",
                        VMP_MAX_SIGNATURES);
            goto out;
        }
        for (char *p = list, *e; *p && !rc; p = e) {
            e = strchr(p, ',');
            if (e)
                *e++ = 0;
            else
                e = p + strlen(p);
            uint8_t dg[VMP_DIGEST_BYTES];
            if (vmp_digest_from_text(p, dg)) {
                rc = r_fail(r, VMP_ERR_FORMAT, "index.json: org.vmpack.signatures: \"%s\" is not a digest", p);
                break;
            }
            if (r->nsig >= VMP_MAX_SIGNATURES) {
                rc = r_fail(r, VMP_ERR_LIMIT, "index.json: more than %d signatures", VMP_MAX_SIGNATURES);
                break;
            }
            for (unsigned k = 0; k < r->nsig; k++)
                if (!memcmp(r->sig[k].info.digest, dg, VMP_DIGEST_BYTES))
                    rc = r_fail(r, VMP_ERR_FORMAT, "index.json: signature %s listed twice", p);
            if (!rc && !(rc = open_signature(r, dg, &r->sig[r->nsig])))
                r->nsig++;
        }
    }
out:
    json_free(&d);
    free(t);
    return rc;
}

static int layer_type(const struct jdoc *d, const struct jnode *mt)
{
    static const struct {
        const char *name;
        int t;
    } k[] = {{VMP_MT_CHUNK, L_CHUNK}, {VMP_MT_CHUNK_INDEX, L_INDEX}, {VMP_MT_SECTION, L_SECTION},
             {VMP_MT_KERNEL, L_KERNEL}, {VMP_MT_INITRD, L_INITRD}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (json_str_is(d, mt, k[i].name))
            return k[i].t;
    return L_OTHER;
}

/* spec/container.md 3.2. Fills layers: digest -> a: size, b: layer type. */
static int open_manifest(vmp_reader *r, struct dmap *layers, uint8_t cfg_digest[VMP_DIGEST_BYTES],
                         uint64_t *cfg_size)
{
    char *b, t[VMP_DIGEST_TEXT];
    struct jdoc d;
    int rc = blob_json(r, r->manifest_digest, r->manifest_size, "index.json", MANIFEST_MAX, "manifest",
                       &b, &d);
    if (rc)
        return rc;
    struct jctx c = {r, &d, "manifest"};
    const struct jnode *root = json_root(&d), *cfg, *ls;
    uint64_t v;
    if ((rc = j_u64(&c, root, "schemaVersion", 1000, &v)))
        goto out;
    if (v != 2 || !json_str_is(&d, json_get(&d, root, "mediaType"), VMP_MT_OCI_MANIFEST)) {
        rc = r_fail(r, VMP_ERR_FORMAT, "manifest: expected schemaVersion 2 and mediaType %s",
                    VMP_MT_OCI_MANIFEST);
        goto out;
    }
    /* spec/container.md 1: a version annotation other than 1 is refused early */
    const struct jnode *ann = json_get(&d, root, "annotations");
    const struct jnode *fv = ann ? json_get(&d, ann, "org.vmpack.format.version") : NULL;
    if (fv && !json_str_is(&d, fv, "1")) {
        char vs[32] = "?";
        json_str(&d, fv, vs, sizeof vs);
        rc = r_fail(r, VMP_ERR_VERSION, "manifest: format version %s, this reader knows version %d",
                    vs, VMP_FORMAT_VERSION);
        goto out;
    }
    if (!(cfg = j_type(&c, root, "config", J_OBJ, &rc)))
        goto out;
    if (!json_str_is(&d, json_get(&d, cfg, "mediaType"), "application/vnd.oci.image.config.v1+json")) {
        rc = r_fail(r, VMP_ERR_FORMAT, "manifest: config media type is not application/vnd.oci.image.config.v1+json");
        goto out;
    }
    if ((rc = j_digest(&c, cfg, "digest", cfg_digest)) || (rc = j_u64(&c, cfg, "size", CONFIG_MAX, cfg_size)))
        goto out;
    if (!(ls = j_type(&c, root, "layers", J_ARR, &rc)))
        goto out;
    uint32_t i = 0;
    for (const struct jnode *l = json_first(&d, ls); l; l = json_next(&d, l), i++) {
        char what[64];
        snprintf(what, sizeof what, "manifest: layer %u", i);
        struct jctx lc = {r, &d, what};
        uint8_t dg[VMP_DIGEST_BYTES];
        uint64_t size;
        if (l->type != J_OBJ) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: expected a descriptor object", what);
            goto out;
        }
        if ((rc = j_digest(&lc, l, "digest", dg)) || (rc = j_u64(&lc, l, "size", UINT64_MAX >> 11, &size)))
            goto out;
        const struct tar_member *m = rd_blob(r, dg);
        if (!m) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: blob %s is missing from the tar", what, dtext(dg, t));
            goto out;
        }
        if (m->size != size) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: blob %s at 0x%llx is %llu bytes, descriptor says %llu",
                        what, dtext(dg, t), (unsigned long long)m->hdr_off,
                        (unsigned long long)m->size, (unsigned long long)size);
            goto out;
        }
        int fresh;
        struct dmap_ent *e = dmap_put(layers, dg, &fresh);
        if (!e) {
            rc = r_fail(r, VMP_ERR_NOMEM, "manifest: out of memory");
            goto out;
        }
        if (!fresh) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: blob %s listed twice", what, dtext(dg, t));
            goto out;
        }
        e->a = size;
        e->b = (uint64_t)layer_type(&d, json_get(&d, l, "mediaType"));
    }
out:
    json_free(&d);
    free(b);
    return rc;
}

/* spec/container.md 5.2 */
static int open_chunk_index(vmp_reader *r, struct rd_image *im, struct dmap *layers)
{
    uint8_t *b;
    size_t len;
    char what[128], t[VMP_DIGEST_TEXT];
    snprintf(what, sizeof what, "chunk index of image %s", im->info.name);
    int rc = rd_read_blob(r, im->info.index_digest, im->index_size, what, &b, &len);
    if (rc)
        return rc;
    if (len < 32 || memcmp(b, "VMPCIDX1", 8)) {
        rc = r_fail(r, VMP_ERR_FORMAT, "%s: no VMPCIDX1 header", what);
        goto out;
    }
    uint32_t lv = le32_get(b + 8), cb = le32_get(b + 12);
    uint64_t isz = le64_get(b + 16), n = le64_get(b + 24);
    if (lv != 1) {
        rc = r_fail(r, VMP_ERR_VERSION, "%s at 0x8: layout version %u, this reader knows 1", what, lv);
        goto out;
    }
    if (cb != im->info.chunk_bytes || isz != im->info.size_bytes) {
        rc = r_fail(r, VMP_ERR_FORMAT, "%s at 0xc: chunk size %u and image size %llu, config says %u and %llu",
                    what, cb, (unsigned long long)isz, im->info.chunk_bytes,
                    (unsigned long long)im->info.size_bytes);
        goto out;
    }
    if (n > (len - 32) / 88 || 32 + 88 * n != len) {
        rc = r_fail(r, VMP_ERR_FORMAT, "%s at 0x18: %llu entries need %llu bytes, blob has %zu", what,
                    (unsigned long long)n, n > (len - 32) / 88 ? 0ull : (unsigned long long)(32 + 88 * n), len);
        goto out;
    }
    im->chunks = calloc(n ? n : 1, sizeof *im->chunks);
    if (!im->chunks) {
        rc = r_fail(r, VMP_ERR_NOMEM, "%s: out of memory", what);
        goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = b + 32 + 88 * i;
        struct rd_chunk *c = &im->chunks[i];
        unsigned long long eo = (unsigned long long)(32 + 88 * i);
        c->offset = le64_get(p);
        c->usize = le32_get(p + 8);
        c->csize = le64_get(p + 16);
        memcpy(c->udigest, p + 24, 32);
        memcpy(c->cdigest, p + 56, 32);
        if (c->offset % cb || c->offset >= isz || (i && c->offset <= im->chunks[i - 1].offset)) {
            rc = r_fail(r, VMP_ERR_FORMAT,
                        "%s: entry %llu at 0x%llx: offset 0x%llx is not a chunk boundary after the previous entry inside the image",
                        what, (unsigned long long)i, eo, (unsigned long long)c->offset);
            goto out;
        }
        uint64_t left = isz - c->offset;
        uint32_t want = left < cb ? (uint32_t)left : cb;
        if (c->usize != want || le32_get(p + 12) != 0) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: entry %llu at 0x%llx: uncompressed size %u, chunk is %u bytes",
                        what, (unsigned long long)i, eo, c->usize, want);
            goto out;
        }
        if (c->csize == 0 || c->csize > ZSTD_compressBound(want)) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: entry %llu at 0x%llx: compressed size %llu, bound %zu",
                        what, (unsigned long long)i, eo, (unsigned long long)c->csize,
                        ZSTD_compressBound(want));
            goto out;
        }
        struct dmap_ent *e = dmap_get(layers, c->cdigest);
        if (!e || e->a != c->csize) {
            rc = r_fail(r, VMP_ERR_FORMAT,
                        "%s: entry %llu at 0x%llx: chunk blob %s is not a manifest layer of %llu bytes",
                        what, (unsigned long long)i, eo, dtext(c->cdigest, t),
                        (unsigned long long)c->csize);
            goto out;
        }
        c->data_off = rd_blob(r, c->cdigest)->data_off;
    }
    im->nchunks = n;
    im->info.stored_chunks = n;
out:
    free(b);
    return rc;
}

/* Finds name in a list of n names stride bytes apart (ids of devices,
 * names of images, ids of sections): 0 and its index in *at (if not
 * NULL), or VMP_ERR_NOT_FOUND. */
static int id_list_find(const char *names, size_t stride, unsigned n, const char *name, unsigned *at)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(names + stride * i, name)) {
            if (at)
                *at = i;
            return 0;
        }
    return VMP_ERR_NOT_FOUND;
}

/* spec/container.md 4 */
static int open_config(vmp_reader *r, struct dmap *layers, const uint8_t cd[VMP_DIGEST_BYTES],
                       uint64_t csize)
{
    char *b;
    struct jdoc d;
    int rc = blob_json(r, cd, csize, "manifest", CONFIG_MAX, "config", &b, &d);
    if (rc)
        return rc;
    struct jctx c = {r, &d, "config"};
    struct vmp_config *cfg = &r->cfg;
    const struct jnode *vm, *n, *arr;
    uint64_t v;
    if (!(vm = j_type(&c, json_root(&d), "vmpack", J_OBJ, &rc)))
        goto out;
    /* spec/container.md 1: the version first, so a future file is named as such */
    n = json_get(&d, vm, "format_version");
    if (n && n->type == J_NUM && n->num != VMP_FORMAT_VERSION) {
        rc = r_fail(r, VMP_ERR_VERSION, "config: format version %llu, this reader knows version %d",
                    (unsigned long long)n->num, VMP_FORMAT_VERSION);
        goto out;
    }
    if ((rc = j_u64(&c, vm, "format_version", UINT32_MAX, &v)))
        goto out;
    cfg->format_version = (uint32_t)v;
    if (!json_str_is(&d, json_get(&d, vm, "mediaType"), VMP_MT_CONFIG)) {
        char mt[128] = "?";
        json_str(&d, json_get(&d, vm, "mediaType"), mt, sizeof mt);
        rc = r_fail(r, VMP_ERR_FORMAT, "config: mediaType \"%s\", expected %s", mt, VMP_MT_CONFIG);
        goto out;
    }
    n = json_get(&d, vm, "power");
    if (json_str_is(&d, n, "off"))
        cfg->power = VMP_POWER_OFF;
    else if (json_str_is(&d, n, "suspended"))
        cfg->power = VMP_POWER_SUSPENDED;
    else {
        rc = r_fail(r, VMP_ERR_FORMAT, "config: power: expected \"off\" or \"suspended\"");
        goto out;
    }
    if (!(n = j_type(&c, vm, "memory", J_OBJ, &rc)) || (rc = j_u64(&c, n, "size", VMP_MEM_MAX_BYTES, &v)))
        goto out;
    if (v == 0 || v % 4096) {
        rc = r_fail(r, VMP_ERR_FORMAT, "config: memory size %llu is not a nonzero multiple of 4096",
                    (unsigned long long)v);
        goto out;
    }
    cfg->mem_bytes = v;
    /* 4.2 */
    if (!(n = j_type(&c, vm, "cpu", J_OBJ, &rc)) ||
        (rc = j_str(&c, n, "name", cfg->cpu.name, sizeof cfg->cpu.name)) ||
        !(arr = j_type(&c, n, "leaves", J_ARR, &rc)))
        goto out;
    if (arr->count > VMP_PROFILE_MAX_LEAVES) {
        rc = r_fail(r, VMP_ERR_LIMIT, "config: cpu.leaves: %u leaves, limit %d", arr->count,
                    VMP_PROFILE_MAX_LEAVES);
        goto out;
    }
    for (const struct jnode *l = json_first(&d, arr); l; l = json_next(&d, l)) {
        uint32_t k = cfg->cpu.nleaves, x[6], j = 0;
        if (l->type != J_ARR || l->count != 6) {
            rc = r_fail(r, VMP_ERR_FORMAT, "config: cpu.leaves[%u]: expected 6 integers", k);
            goto out;
        }
        for (const struct jnode *e = json_first(&d, l); e; e = json_next(&d, e), j++) {
            if (e->type != J_NUM || e->num > UINT32_MAX) {
                rc = r_fail(r, VMP_ERR_FORMAT, "config: cpu.leaves[%u][%u]: expected an integer below 2^32", k, j);
                goto out;
            }
            x[j] = (uint32_t)e->num;
        }
        struct vmp_cpuid_leaf *cl = &cfg->cpu.leaves[k];
        *cl = (struct vmp_cpuid_leaf){x[0], x[1], x[2], x[3], x[4], x[5]};
        if (k && (cl[-1].leaf > cl->leaf || (cl[-1].leaf == cl->leaf && cl[-1].subleaf >= cl->subleaf))) {
            rc = r_fail(r, VMP_ERR_FORMAT, "config: cpu.leaves[%u]: leaf 0x%x.%u is not after the previous one",
                        k, cl->leaf, cl->subleaf);
            goto out;
        }
        cfg->cpu.nleaves++;
    }
    /* 4.4 */
    if (!(n = j_type(&c, vm, "boot", J_OBJ, &rc)) ||
        (rc = j_str(&c, n, "cmdline", cfg->cmdline, sizeof cfg->cmdline)))
        goto out;
    for (int k = 0; k < 2; k++) {
        const struct jnode *bd = json_get(&d, n, k ? "initrd" : "kernel");
        if (!bd || bd->type == J_NULL)
            continue;
        struct jctx bc = {r, &d, k ? "config: boot.initrd" : "config: boot.kernel"};
        if ((rc = j_desc(&bc, layers, bd, k ? L_INITRD : L_KERNEL, r->boot[k].digest, &r->boot[k].size,
                         VMP_BOOT_BLOB_MAX_BYTES)))
            goto out;
        r->boot[k].data_off = rd_blob(r, r->boot[k].digest)->data_off;
        r->boot[k].present = 1;
    }
    /* 4.3 */
    if (!(arr = j_type(&c, vm, "devices", J_ARR, &rc)))
        goto out;
    if (arr->count > VMP_MAX_DEVICES) {
        rc = r_fail(r, VMP_ERR_LIMIT, "config: %u devices, limit %d", arr->count, VMP_MAX_DEVICES);
        goto out;
    }
    for (const struct jnode *e = json_first(&d, arr); e; e = json_next(&d, e)) {
        struct vmp_device *dv = &cfg->devices[cfg->ndevices];
        char what[64];
        snprintf(what, sizeof what, "config: devices[%u]", cfg->ndevices);
        struct jctx dc = {r, &d, what};
        if (e->type != J_OBJ) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: expected an object", what);
            goto out;
        }
        if ((rc = j_str(&dc, e, "kind", dv->kind, sizeof dv->kind)) ||
            (rc = j_str(&dc, e, "id", dv->id, sizeof dv->id)) ||
            (rc = j_str(&dc, e, "image", dv->image, sizeof dv->image)))
            goto out;
        if (!fmt_name_ok(dv->kind) || !fmt_name_ok(dv->id) || (dv->image[0] && !fmt_name_ok(dv->image)) ||
            id_list_find(cfg->devices[0].id, sizeof cfg->devices[0], cfg->ndevices, dv->id, NULL) == 0) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: bad or repeated kind, id or image name", what);
            goto out;
        }
        cfg->ndevices++;
    }
    /* 5.1 */
    if (!(arr = j_type(&c, vm, "images", J_ARR, &rc)))
        goto out;
    if (arr->count > VMP_MAX_IMAGES) {
        rc = r_fail(r, VMP_ERR_LIMIT, "config: %u images, limit %d", arr->count, VMP_MAX_IMAGES);
        goto out;
    }
    int ram = -1;
    for (const struct jnode *e = json_first(&d, arr); e; e = json_next(&d, e)) {
        struct rd_image *im = &r->img[r->nimg];
        char what[96];
        snprintf(what, sizeof what, "config: images[%u]", r->nimg);
        struct jctx ic = {r, &d, what};
        int ro;
        if (e->type != J_OBJ) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: expected an object", what);
            goto out;
        }
        memset(im, 0, sizeof *im);
        if ((rc = j_str(&ic, e, "name", im->info.name, sizeof im->info.name)) ||
            (rc = j_u64(&ic, e, "size", VMP_IMAGE_MAX_BYTES, &im->info.size_bytes)) ||
            (rc = j_u64(&ic, e, "chunk_size", VMP_CHUNK_MAX, &v)) || (rc = j_bool(&ic, e, "read_only", &ro)))
            goto out;
        im->info.chunk_bytes = (uint32_t)v;
        im->info.flags = ro ? VMP_IMAGE_READ_ONLY : 0;
        if (!fmt_name_ok(im->info.name) ||
            id_list_find(r->img[0].info.name, sizeof r->img[0], r->nimg, im->info.name, NULL) == 0) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: bad or repeated name", what);
            goto out;
        }
        if (v < VMP_CHUNK_MIN || (v & (v - 1))) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: chunk_size %llu is not a power of two in 4 KiB..16 MiB",
                        what, (unsigned long long)v);
            goto out;
        }
        n = json_get(&d, e, "kind");
        if (json_str_is(&d, n, "disk"))
            im->info.kind = VMP_IMAGE_DISK;
        else if (json_str_is(&d, n, "ram") && ram < 0)
            im->info.kind = VMP_IMAGE_RAM, ram = (int)r->nimg;
        else {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: kind: expected \"disk\" or one \"ram\"", what);
            goto out;
        }
        if (im->info.kind == VMP_IMAGE_RAM && im->info.size_bytes != cfg->mem_bytes) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: RAM image of %llu bytes, memory is %llu", what,
                        (unsigned long long)im->info.size_bytes, (unsigned long long)cfg->mem_bytes);
            goto out;
        }
        im->info.nchunks = (im->info.size_bytes + v - 1) / v;
        struct jctx xc = {r, &d, what};
        if ((rc = j_desc(&xc, layers, json_get(&d, e, "index"), L_INDEX, im->info.index_digest,
                         &im->index_size, 32 + 88 * (im->info.nchunks < (1ull << 40) ? im->info.nchunks : 0))))
            goto out;
        r->nimg++;
        if ((rc = open_chunk_index(r, im, layers)))
            goto out;
    }
    for (uint32_t i = 0; i < cfg->ndevices; i++) {
        const struct vmp_device *dv = &cfg->devices[i];
        unsigned j;
        if (!dv->image[0])
            continue;
        for (j = 0; j < r->nimg; j++)
            if (!strcmp(r->img[j].info.name, dv->image) && r->img[j].info.kind == VMP_IMAGE_DISK)
                break;
        if (j == r->nimg) {
            rc = r_fail(r, VMP_ERR_FORMAT, "config: device %s: no disk image named %s", dv->id, dv->image);
            goto out;
        }
    }
    /* 6.1 */
    if (!(arr = j_type(&c, vm, "sections", J_ARR, &rc)))
        goto out;
    if (arr->count > VMP_MAX_SECTIONS) {
        rc = r_fail(r, VMP_ERR_LIMIT, "config: %u sections, limit %d", arr->count, VMP_MAX_SECTIONS);
        goto out;
    }
    for (const struct jnode *e = json_first(&d, arr); e; e = json_next(&d, e)) {
        struct rd_section *s = &r->sec[r->nsec];
        char what[96];
        snprintf(what, sizeof what, "config: sections[%u]", r->nsec);
        struct jctx sc = {r, &d, what};
        int req;
        if (e->type != J_OBJ) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: expected an object", what);
            goto out;
        }
        memset(s, 0, sizeof *s);
        if ((rc = j_str(&sc, e, "id", s->info.id, sizeof s->info.id)) ||
            (rc = j_u64(&sc, e, "version", UINT32_MAX, &v)) || (rc = j_bool(&sc, e, "required", &req)))
            goto out;
        if (!fmt_name_ok(s->info.id) || v == 0 ||
            id_list_find(r->sec[0].info.id, sizeof r->sec[0], r->nsec, s->info.id, NULL) == 0) {
            rc = r_fail(r, VMP_ERR_FORMAT, "%s: bad or repeated id, or version 0", what);
            goto out;
        }
        s->info.version = (uint32_t)v;
        s->info.flags = req ? VMP_SECTION_REQUIRED : 0;
        if ((rc = j_desc(&sc, layers, e, L_SECTION, s->info.digest, &s->info.size_bytes,
                         VMP_SECTION_MAX_BYTES)))
            goto out;
        s->data_off = rd_blob(r, s->info.digest)->data_off;
        r->nsec++;
    }
    if (cfg->power == VMP_POWER_SUSPENDED) {
        unsigned k;
        for (k = 0; k < r->nsec; k++)
            if (!strcmp(r->sec[k].info.id, VMP_X86_SECTION_ID))
                break;
        if (ram < 0 || k == r->nsec) {
            rc = r_fail(r, VMP_ERR_FORMAT, "config: suspended, but no RAM image or no %s section",
                        VMP_X86_SECTION_ID);
            goto out;
        }
    }
out:
    json_free(&d);
    free(b);
    return rc;
}

int vmp_reader_open_fd(vmp_reader *r, int fd)
{
    if (r->fd >= 0 || r->m)
        return r_fail(r, VMP_ERR_STATE, "reader: already open");
    r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (r->fd < 0)
        return r_fail(r, VMP_ERR_IO, "dup: %s", strerror(errno));
    struct stat sb;
    if (fstat(r->fd, &sb))
        return r_fail(r, VMP_ERR_IO, "fstat: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode))
        return r_fail(r, VMP_ERR_INVALID, "not a regular file");
    r->file_size = (uint64_t)sb.st_size;
    char msg[FMT_ERRMSG_MAX];
    int rc = tar_index(r->fd, r->file_size, &r->m, &r->nm, msg);
    if (rc)
        return r_fail(r, rc, "%s", msg);
    const struct tar_member *layout = NULL, *index = NULL;
    size_t nb = 0;
    for (size_t i = 0; i < r->nm; i++) {
        const struct tar_member *m = &r->m[i];
        if (m->kind == TAR_BLOB) {
            nb++;
            continue;
        }
        const struct tar_member **slot = m->kind == TAR_OCI_LAYOUT ? &layout : &index;
        if (*slot)
            return r_fail(r, VMP_ERR_FORMAT, "tar member %s at 0x%llx: a second copy",
                          m->kind == TAR_OCI_LAYOUT ? "oci-layout" : "index.json",
                          (unsigned long long)m->hdr_off);
        *slot = m;
    }
    if (!layout || !index)
        return r_fail(r, VMP_ERR_FORMAT, "tar: no %s member: not an OCI image layout",
                      layout ? "index.json" : "oci-layout");
    r->blobs = malloc((nb ? nb : 1) * sizeof *r->blobs);
    if (!r->blobs)
        return r_fail(r, VMP_ERR_NOMEM, "reader: out of memory");
    for (size_t i = 0; i < r->nm; i++)
        if (r->m[i].kind == TAR_BLOB)
            r->blobs[r->nblobs++] = &r->m[i];
    qsort(r->blobs, r->nblobs, sizeof *r->blobs, blob_cmp);
    for (size_t i = 1; i < r->nblobs; i++)
        if (!memcmp(r->blobs[i]->digest, r->blobs[i - 1]->digest, VMP_DIGEST_BYTES)) {
            char t[VMP_DIGEST_TEXT];
            return r_fail(r, VMP_ERR_FORMAT, "tar member blobs/sha256/%s at 0x%llx: a second copy",
                          dtext(r->blobs[i]->digest, t) + 7, (unsigned long long)r->blobs[i]->hdr_off);
        }
    if ((rc = open_layout(r, layout)) || (rc = open_index(r, index)))
        return rc;
    struct dmap layers = {0};
    uint8_t cd[VMP_DIGEST_BYTES];
    uint64_t csize;
    rc = open_manifest(r, &layers, cd, &csize);
    if (!rc)
        rc = open_config(r, &layers, cd, csize);
    dmap_free(&layers);
    return rc;
}

int vmp_reader_open(vmp_reader *r, const char *path)
{
    if (r->fd >= 0 || r->m)
        return r_fail(r, VMP_ERR_STATE, "reader: already open");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return r_fail(r, VMP_ERR_IO, "%s: %s", path, strerror(errno));
    int rc = vmp_reader_open_fd(r, fd);
    close(fd);
    if (rc) {
        char m[FMT_ERRMSG_MAX];
        if (snprintf(m, sizeof m, "%s: %s", path, r->errmsg) >= (int)sizeof m)
            m[sizeof m - 2] = '~'; /* truncated */
        memcpy(r->errmsg, m, sizeof m);
    }
    return rc;
}

/* ---- queries -------------------------------------------------------------- */
const struct vmp_config *vmp_reader_config(const vmp_reader *r) { return &r->cfg; }

void vmp_reader_manifest_digest(const vmp_reader *r, uint8_t d[VMP_DIGEST_BYTES])
{
    memcpy(d, r->manifest_digest, VMP_DIGEST_BYTES);
}

unsigned vmp_reader_image_count(const vmp_reader *r) { return r->nimg; }

int vmp_reader_image_info(const vmp_reader *r, unsigned i, struct vmp_image_info *info)
{
    if (i >= r->nimg)
        return VMP_ERR_NOT_FOUND;
    *info = r->img[i].info;
    return 0;
}

int vmp_reader_image_find(const vmp_reader *r, const char *name, unsigned *i)
{
    return id_list_find(r->img[0].info.name, sizeof r->img[0], r->nimg, name, i);
}

int vmp_reader_image_stats(const vmp_reader *r, unsigned image, struct vmp_image_stats *st)
{
    if (image >= r->nimg)
        return VMP_ERR_NOT_FOUND;
    struct dmap seen = {0};
    memset(st, 0, sizeof *st);
    for (unsigned i = 0; i <= image; i++) {
        const struct rd_image *im = &r->img[i];
        for (uint64_t k = 0; k < im->nchunks; k++) {
            int fresh;
            if (!dmap_put(&seen, im->chunks[k].cdigest, &fresh)) {
                dmap_free(&seen);
                return VMP_ERR_NOMEM;
            }
            if (i != image)
                continue;
            st->bytes_uncompressed += im->chunks[k].usize;
            if (fresh)
                st->bytes_compressed += im->chunks[k].csize;
            else
                st->chunks_dedup++;
        }
    }
    dmap_free(&seen);
    st->chunks_total = r->img[image].info.nchunks;
    st->chunks_stored = r->img[image].nchunks;
    st->chunks_zero = st->chunks_total - st->chunks_stored;
    return 0;
}

int vmp_reader_chunk_info(const vmp_reader *r, unsigned image, uint64_t chunk, struct vmp_chunk_info *ci)
{
    if (image >= r->nimg || chunk >= r->img[image].info.nchunks)
        return VMP_ERR_NOT_FOUND;
    const struct rd_image *im = &r->img[image];
    memset(ci, 0, sizeof *ci);
    ci->offset_bytes = chunk * im->info.chunk_bytes;
    uint64_t left = im->info.size_bytes - ci->offset_bytes;
    ci->size_bytes = left < im->info.chunk_bytes ? (uint32_t)left : im->info.chunk_bytes;
    const struct rd_chunk *c = rd_chunk_at(im, chunk);
    if (!c) {
        ci->zero = 1;
        return 0;
    }
    ci->csize_bytes = c->csize;
    memcpy(ci->udigest, c->udigest, VMP_DIGEST_BYTES);
    memcpy(ci->cdigest, c->cdigest, VMP_DIGEST_BYTES);
    return 0;
}

/* spec/container.md 5.3, the checks in their order. Thread-safe. */
int vmp_reader_read_chunk(vmp_reader *r, unsigned image, uint64_t chunk, void *buf, size_t buflen,
                          size_t *out_len)
{
    struct vmp_chunk_info ci;
    if (r->fd < 0)
        return r_fail(r, VMP_ERR_STATE, "reader: not open");
    if (vmp_reader_chunk_info(r, image, chunk, &ci))
        return r_fail(r, VMP_ERR_NOT_FOUND, "image %u: no chunk %llu", image, (unsigned long long)chunk);
    const char *name = r->img[image].info.name;
    if (buflen < ci.size_bytes)
        return r_fail(r, VMP_ERR_INVALID, "image %s chunk %llu: buffer of %zu bytes, chunk is %u",
                      name, (unsigned long long)chunk, buflen, ci.size_bytes);
    if (out_len)
        *out_len = ci.size_bytes;
    if (ci.zero) {
        memset(buf, 0, ci.size_bytes);
        return 0;
    }
    const struct rd_chunk *c = rd_chunk_at(&r->img[image], chunk);
    uint8_t *z = malloc(c->csize);
    if (!z)
        return r_fail(r, VMP_ERR_NOMEM, "chunk: out of memory");
    char msg[FMT_ERRMSG_MAX], what[128];
    snprintf(what, sizeof what, "image %s chunk %llu", name, (unsigned long long)chunk);
    int rc = fmt_pread_full(r->fd, z, c->csize, c->data_off, msg, what);
    if (rc) {
        free(z);
        return r_fail(r, rc, "%s", msg);
    }
    uint8_t got[VMP_DIGEST_BYTES];
    char t1[VMP_DIGEST_TEXT], t2[VMP_DIGEST_TEXT];
    vmp_sha256(z, c->csize, got);
    if (memcmp(got, c->cdigest, VMP_DIGEST_BYTES)) {
        free(z);
        return r_fail(r, VMP_ERR_DIGEST, "%s at 0x%llx: blob %s hashes to %s", what,
                      (unsigned long long)ci.offset_bytes, dtext(c->cdigest, t1), dtext(got, t2));
    }
    unsigned long long fcs = ZSTD_getFrameContentSize(z, c->csize);
    size_t fsz = ZSTD_findFrameCompressedSize(z, c->csize);
    if (fcs == ZSTD_CONTENTSIZE_ERROR || ZSTD_isError(fsz) || fsz != c->csize) {
        free(z);
        return r_fail(r, VMP_ERR_DECOMPRESS, "%s at 0x%llx: not a single zstd frame", what,
                      (unsigned long long)ci.offset_bytes);
    }
    if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != ci.size_bytes) {
        free(z);
        return r_fail(r, VMP_ERR_DECOMPRESS, "%s at 0x%llx: frame declares %llu bytes, index says %u",
                      what, (unsigned long long)ci.offset_bytes, fcs, ci.size_bytes);
    }
    size_t n = ZSTD_decompress(buf, ci.size_bytes, z, c->csize);
    free(z);
    if (ZSTD_isError(n)) {
        if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
            return r_fail(r, VMP_ERR_DECOMPRESS, "%s at 0x%llx: decodes to more than %u bytes, index says %u",
                          what, (unsigned long long)ci.offset_bytes, ci.size_bytes, ci.size_bytes);
        return r_fail(r, VMP_ERR_DECOMPRESS, "%s at 0x%llx: zstd: %s", what,
                      (unsigned long long)ci.offset_bytes, ZSTD_getErrorName(n));
    }
    if (n != ci.size_bytes)
        return r_fail(r, VMP_ERR_DECOMPRESS, "%s at 0x%llx: decodes to %zu bytes, index says %u", what,
                      (unsigned long long)ci.offset_bytes, n, ci.size_bytes);
    vmp_sha256(buf, n, got);
    if (memcmp(got, c->udigest, VMP_DIGEST_BYTES))
        return r_fail(r, VMP_ERR_DIGEST, "%s at 0x%llx: decodes to content hashing to %s, index says %s",
                      what, (unsigned long long)ci.offset_bytes, dtext(got, t2), dtext(c->udigest, t1));
    return 0;
}

int vmp_reader_export_image_cb(vmp_reader *r, unsigned image, vmp_chunk_sink_fn fn, void *ctx)
{
    if (image >= r->nimg)
        return r_fail(r, VMP_ERR_NOT_FOUND, "no image %u", image);
    const struct rd_image *im = &r->img[image];
    uint8_t *buf = malloc(im->info.chunk_bytes);
    if (!buf)
        return r_fail(r, VMP_ERR_NOMEM, "export: out of memory");
    int rc = 0;
    for (uint64_t i = 0; i < im->info.nchunks && !rc; i++) {
        size_t n;
        if ((rc = vmp_reader_read_chunk(r, image, i, buf, im->info.chunk_bytes, &n)))
            break;
        if (fn(ctx, i * im->info.chunk_bytes, buf, n))
            rc = r_fail(r, VMP_ERR_CALLBACK, "image %s: sink failed at chunk %llu", im->info.name,
                        (unsigned long long)i);
    }
    free(buf);
    return rc;
}

struct fd_sink {
    int fd;
    int sparse;
    char msg[FMT_ERRMSG_MAX];
};

static int fd_sink(void *ctx, uint64_t off, const void *data, size_t len)
{
    struct fd_sink *s = ctx;
    if (s->sparse && len && ((const uint8_t *)data)[0] == 0 &&
        memcmp(data, (const uint8_t *)data + 1, len - 1) == 0) {
        if (lseek(s->fd, (off_t)(off + len), SEEK_SET) < 0)
            return fmt_err(s->msg, VMP_ERR_IO, "export: lseek: %s", strerror(errno));
        return 0;
    }
    const uint8_t *p = data;
    while (len) {
        ssize_t k = write(s->fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return fmt_err(s->msg, VMP_ERR_IO, "export: write at 0x%llx: %s",
                           (unsigned long long)off, strerror(errno));
        p += k;
        len -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

int vmp_reader_export_image_fd(vmp_reader *r, unsigned image, int fd, unsigned flags)
{
    struct fd_sink s = {fd, !!(flags & VMP_EXPORT_SPARSE), ""};
    int rc = vmp_reader_export_image_cb(r, image, fd_sink, &s);
    if (rc == VMP_ERR_CALLBACK)
        return r_fail(r, VMP_ERR_IO, "%s", s.msg);
    if (!rc && s.sparse && ftruncate(fd, (off_t)r->img[image].info.size_bytes))
        return r_fail(r, VMP_ERR_IO, "export: ftruncate: %s", strerror(errno));
    return rc;
}

/* ---- sections ------------------------------------------------------------- */
unsigned vmp_reader_section_count(const vmp_reader *r) { return r->nsec; }

int vmp_reader_section_info(const vmp_reader *r, unsigned i, struct vmp_section_info *info)
{
    if (i >= r->nsec)
        return VMP_ERR_NOT_FOUND;
    *info = r->sec[i].info;
    return 0;
}

int vmp_reader_section_find(const vmp_reader *r, const char *id, unsigned *i)
{
    return id_list_find(r->sec[0].info.id, sizeof r->sec[0], r->nsec, id, i);
}

int vmp_reader_section_read(vmp_reader *r, unsigned i, void **data, size_t *len)
{
    if (i >= r->nsec)
        return r_fail(r, VMP_ERR_NOT_FOUND, "no section %u", i);
    char what[128];
    snprintf(what, sizeof what, "section %s", r->sec[i].info.id);
    uint8_t *b;
    int rc = rd_read_blob(r, r->sec[i].info.digest, VMP_SECTION_MAX_BYTES, what, &b, len);
    *data = b;
    return rc;
}

/* spec/container.md 6.2 */
int vmp_reader_sections_check(vmp_reader *r, const struct vmp_section_support *sup, size_t nsup,
                              unsigned *skipped)
{
    unsigned sk = 0;
    for (unsigned i = 0; i < r->nsec; i++) {
        const struct vmp_section_info *s = &r->sec[i].info;
        size_t k;
        for (k = 0; k < nsup; k++)
            if (!strcmp(sup[k].id, s->id))
                break;
        int known = k < nsup && s->version <= sup[k].max_version;
        if (known)
            continue;
        if (s->flags & VMP_SECTION_REQUIRED) {
            if (k < nsup)
                return r_fail(r, VMP_ERR_UNSUPPORTED,
                              "section %s version %u is required, this reader knows up to version %u",
                              s->id, s->version, sup[k].max_version);
            return r_fail(r, VMP_ERR_UNSUPPORTED, "section %s version %u is required and unknown to this reader",
                          s->id, s->version);
        }
        sk++;
    }
    if (skipped)
        *skipped = sk;
    return 0;
}

/* ---- boot ------------------------------------------------------------------ */
int vmp_reader_boot_info(const vmp_reader *r, int which, int *present, uint64_t *size,
                         uint8_t digest[VMP_DIGEST_BYTES])
{
    if (which != VMP_BOOT_KERNEL && which != VMP_BOOT_INITRD)
        return VMP_ERR_INVALID;
    *present = r->boot[which].present;
    if (size)
        *size = r->boot[which].size;
    if (digest)
        memcpy(digest, r->boot[which].digest, VMP_DIGEST_BYTES);
    return 0;
}

int vmp_reader_boot_read(vmp_reader *r, int which, void **data, size_t *len)
{
    if ((which != VMP_BOOT_KERNEL && which != VMP_BOOT_INITRD) || !r->boot[which].present)
        return r_fail(r, VMP_ERR_NOT_FOUND, "no %s in this container", which ? "initrd" : "kernel");
    uint8_t *b;
    int rc = rd_read_blob(r, r->boot[which].digest, VMP_BOOT_BLOB_MAX_BYTES,
                          which ? "initrd" : "kernel", &b, len);
    *data = b;
    return rc;
}

/* ---- signatures, stats, verify ------------------------------------------ */
unsigned vmp_reader_signature_count(const vmp_reader *r) { return r->nsig; }

int vmp_reader_signature_info(const vmp_reader *r, unsigned i, struct vmp_signature_info *si)
{
    if (i >= r->nsig)
        return VMP_ERR_NOT_FOUND;
    *si = r->sig[i].info;
    return 0;
}

int vmp_reader_stats(const vmp_reader *r, struct vmp_container_stats *st)
{
    memset(st, 0, sizeof *st);
    st->file_bytes = r->file_size;
    st->blobs = r->nblobs;
    for (size_t i = 0; i < r->nblobs; i++)
        st->blob_bytes += r->blobs[i]->size;
    st->signatures = r->nsig;
    return 0;
}

static int sig_valid(const vmp_reader *r, const struct rd_sig *s)
{
    if (memcmp(s->manifest, r->manifest_digest, VMP_DIGEST_BYTES))
        return 0;
    return vmp_verify_digest(&s->info.public_key, r->manifest_digest, s->sig) == 0;
}

int vmp_reader_verify(vmp_reader *r, const struct vmp_public_key *pk, vmp_progress_fn progress, void *ctx)
{
    if (r->fd < 0)
        return r_fail(r, VMP_ERR_STATE, "reader: not open");
    uint64_t total = 0, done = 0;
    for (size_t i = 0; i < r->nblobs; i++)
        total += r->blobs[i]->size;
    for (unsigned i = 0; i < r->nimg; i++)
        for (uint64_t k = 0; k < r->img[i].nchunks; k++)
            total += r->img[i].chunks[k].usize;
    char msg[FMT_ERRMSG_MAX];
    /* every blob of the tar, in file order */
    for (size_t i = 0; i < r->nm; i++) {
        const struct tar_member *m = &r->m[i];
        if (m->kind != TAR_BLOB)
            continue;
        int rc = rd_check_range(r, m->data_off, m->size, m->digest, "blob", msg);
        if (rc)
            return r_fail(r, rc, "%s", msg);
        done += m->size;
        if (progress && progress(ctx, done, total))
            return r_fail(r, VMP_ERR_CALLBACK, "verify: stopped by the caller");
    }
    /* every chunk decodes to its size and digest (spec/container.md 5.3) */
    for (unsigned i = 0; i < r->nimg; i++) {
        const struct rd_image *im = &r->img[i];
        uint8_t *buf = malloc(im->info.chunk_bytes);
        if (!buf)
            return r_fail(r, VMP_ERR_NOMEM, "verify: out of memory");
        for (uint64_t k = 0; k < im->nchunks; k++) {
            uint64_t idx = im->chunks[k].offset / im->info.chunk_bytes;
            int rc = vmp_reader_read_chunk(r, i, idx, buf, im->info.chunk_bytes, NULL);
            if (rc) {
                free(buf);
                return rc;
            }
            done += im->chunks[k].usize;
            if (progress && progress(ctx, done, total)) {
                free(buf);
                return r_fail(r, VMP_ERR_CALLBACK, "verify: stopped by the caller");
            }
        }
        free(buf);
    }
    /* spec/container.md 7.1: every signature present must verify */
    int found = 0;
    for (unsigned i = 0; i < r->nsig; i++) {
        const struct rd_sig *s = &r->sig[i];
        char t[VMP_DIGEST_TEXT];
        if (!sig_valid(r, s))
            return r_fail(r, VMP_ERR_SIGNATURE, "signature %s by key %s does not verify over manifest %s",
                          dtext(s->info.digest, t), s->info.key_id,
                          dtext(r->manifest_digest, msg));
        if (pk && !memcmp(pk->bytes, s->info.public_key.bytes, VMP_PUBLIC_KEY_BYTES))
            found = 1;
    }
    if (pk && !found) {
        char id[VMP_KEY_ID_TEXT];
        vmp_key_id(pk, id);
        return r_fail(r, VMP_ERR_NO_SIGNATURE, "no signature by key %s (%u signature%s present)", id,
                      r->nsig, r->nsig == 1 ? "" : "s");
    }
    return 0;
}
