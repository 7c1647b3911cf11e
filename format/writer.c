/*
 * writer.c - makes a container (spec/container.md): blobs are appended to a
 * temporary tar next to the target as they come (so memory stays at a few
 * chunks), deduplicated by digest; commit writes the config, the manifest
 * and index.json and atomically replaces the target (spec/container.md 8).
 */
#include "fmt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

enum mt { MT_NONE = -1, MT_CHUNK, MT_INDEX, MT_SECTION, MT_KERNEL, MT_INITRD };
static const char *const mt_names[] = {VMP_MT_CHUNK, VMP_MT_CHUNK_INDEX, VMP_MT_SECTION,
                                       VMP_MT_KERNEL, VMP_MT_INITRD};

enum wstate { W_NEW, W_OPEN, W_DONE, W_FAILED };

struct wlayer {
    uint8_t digest[VMP_DIGEST_BYTES];
    uint64_t size;
    int mt;
};

struct went {
    uint64_t idx;
    uint64_t seq;       /* call order, to sort stably */
    uint32_t usize;
    uint8_t zero;
    uint64_t csize;
    uint8_t ud[VMP_DIGEST_BYTES];
    uint8_t cd[VMP_DIGEST_BYTES];
};

struct wimage {
    struct vmp_image_info info;
    struct went *e;
    size_t n, cap;
    vmp_reader *copy_src;
    unsigned copy_img;
    int open, done;
    uint64_t index_size;
    struct vmp_image_stats st;
};

struct wboot {
    int present;
    uint8_t digest[VMP_DIGEST_BYTES];
    uint64_t size;
};

struct vmp_writer {
    int state;
    char *path, *tmp;
    int fd;
    uint64_t off;
    int level;
    unsigned threads;
    ZSTD_CCtx *cctx;
    struct vmp_config cfg;
    int have_cfg;
    struct wboot boot[2];
    struct wimage img[VMP_MAX_IMAGES];
    unsigned nimg;
    int open_img;
    struct vmp_section_info sec[VMP_MAX_SECTIONS];
    unsigned nsec;
    struct wlayer *layers;
    size_t nlayers, caplayers;
    struct dmap blobs;      /* blob digest -> a: size, b: layer index + 1 (0: not a layer) */
    struct dmap chunks;     /* uncompressed digest -> b: layer index + 1 */
    uint8_t (*sigs)[VMP_DIGEST_BYTES];
    size_t nsigs;
    uint8_t *cbuf;
    size_t cbuf_cap;
    ZSTD_CCtx *pcc[64];     /* put_chunks: contexts of threads 1.. (0 uses cctx) */
    uint8_t *pbuf;          /* put_chunks: one zstd bound per chunk of a call */
    size_t pbuf_cap;
    uint64_t seq;
    char errmsg[FMT_ERRMSG_MAX];
};

static int w_fail(vmp_writer *w, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int w_fail(vmp_writer *w, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_verr(w->errmsg, status, fmt, ap);
    va_end(ap);
    if (w->state == W_OPEN)
        w->state = W_FAILED;
    return status;
}

/* The writer is spent after a failure (writer.h); w->errmsg already says why. */
static int w_spend(vmp_writer *w, int status)
{
    if (status && w->state == W_OPEN)
        w->state = W_FAILED;
    return status;
}

int vmp_writer_create(vmp_writer **out)
{
    *out = NULL;
    vmp_writer *w = calloc(1, sizeof *w);
    if (!w)
        return VMP_ERR_NOMEM;
    w->fd = -1;
    w->level = 3;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    w->threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned)cpus;
    w->open_img = -1;
    vmp_config_init(&w->cfg);
    *out = w;
    return 0;
}

void vmp_writer_destroy(vmp_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp && w->state != W_DONE)
        unlink(w->tmp);
    free(w->path);
    free(w->tmp);
    ZSTD_freeCCtx(w->cctx);
    for (unsigned i = 0; i < w->nimg; i++)
        free(w->img[i].e);
    free(w->layers);
    dmap_free(&w->blobs);
    dmap_free(&w->chunks);
    free(w->sigs);
    free(w->cbuf);
    for (unsigned t = 0; t < 64; t++)
        ZSTD_freeCCtx(w->pcc[t]);
    free(w->pbuf);
    free(w);
}

const char *vmp_writer_errmsg(const vmp_writer *w) { return w ? w->errmsg : ""; }

static int w_ready(vmp_writer *w)
{
    if (w->state == W_OPEN)
        return 0;
    return fmt_err(w->errmsg, VMP_ERR_STATE, "writer: %s",
                   w->state == W_NEW ? "not open" : w->state == W_DONE ? "already committed"
                                                                      : "spent by an earlier failure");
}

/* ---- tar output ---------------------------------------------------------- */
static const uint8_t zeros[1024];

static int w_write(vmp_writer *w, const void *p, size_t n)
{
    int rc = fmt_pwrite_full(w->fd, p, n, w->off, w->errmsg);
    if (rc)
        return w_spend(w, rc);
    w->off += n;
    return 0;
}

static int w_pad(vmp_writer *w, uint64_t size)
{
    size_t pad = (size_t)((512 - (size & 511)) & 511);
    return pad ? w_write(w, zeros, pad) : 0;
}

static int w_member(vmp_writer *w, const char *name, const void *data, size_t len, char type)
{
    uint8_t h[512];
    tar_header(h, name, len, type);
    int rc = w_write(w, h, 512);
    if (!rc && len)
        rc = w_write(w, data, len);
    if (!rc)
        rc = w_pad(w, len);
    return rc;
}

static void blob_name(const uint8_t d[VMP_DIGEST_BYTES], char name[96])
{
    char t[VMP_DIGEST_TEXT];
    vmp_digest_to_text(d, t);
    snprintf(name, 96, "blobs/sha256/%s", t + 7);
}

static int w_add_layer(vmp_writer *w, const uint8_t d[VMP_DIGEST_BYTES], uint64_t size, int mt,
                       struct dmap_ent *e)
{
    if (mt == MT_NONE)
        return 0;
    if (w->nlayers == w->caplayers) {
        size_t cap = w->caplayers ? w->caplayers * 2 : 256;
        struct wlayer *l = realloc(w->layers, cap * sizeof *l);
        if (!l)
            return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
        w->layers = l;
        w->caplayers = cap;
    }
    memcpy(w->layers[w->nlayers].digest, d, VMP_DIGEST_BYTES);
    w->layers[w->nlayers].size = size;
    w->layers[w->nlayers].mt = mt;
    w->nlayers++;
    e->b = w->nlayers;
    return 0;
}

/* Appends a blob unless one with its digest is there (*fresh says which). */
static int w_blob_mem_known(vmp_writer *w, const void *data, size_t len, int mt,
                            const uint8_t d[VMP_DIGEST_BYTES], int *fresh);

static int w_blob_mem(vmp_writer *w, const void *data, size_t len, int mt,
                      uint8_t d[VMP_DIGEST_BYTES], int *fresh)
{
    vmp_sha256(data, len, d);
    return w_blob_mem_known(w, data, len, mt, d, fresh);
}

/* As w_blob_mem, with d already the SHA-256 of data (computed by a
 * put_chunks thread). */
static int w_blob_mem_known(vmp_writer *w, const void *data, size_t len, int mt,
                            const uint8_t d[VMP_DIGEST_BYTES], int *fresh)
{
    int isnew;
    struct dmap_ent *e = dmap_put(&w->blobs, d, &isnew);
    if (!e)
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    if (fresh)
        *fresh = isnew;
    if (!isnew) {
        /* a blob written as a non-layer (config) that is now a layer too */
        if (!e->b && mt != MT_NONE)
            return w_add_layer(w, d, len, mt, e);
        return 0;
    }
    e->a = len;
    char name[96];
    blob_name(d, name);
    int rc = w_member(w, name, data, len, '0');
    if (rc)
        return rc;
    return w_add_layer(w, d, len, mt, e);
}

/* Copies a blob of size bytes at src_off of src_fd, checking it against d
 * as it goes (a copy never launders a corrupt blob). */
static int w_blob_copy(vmp_writer *w, int src_fd, uint64_t src_off, uint64_t size,
                       const uint8_t d[VMP_DIGEST_BYTES], int mt, int *fresh)
{
    int isnew;
    struct dmap_ent *e = dmap_put(&w->blobs, d, &isnew);
    if (!e)
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    if (fresh)
        *fresh = isnew;
    if (!isnew)
        return (!e->b && mt != MT_NONE) ? w_add_layer(w, d, size, mt, e) : 0;
    e->a = size;
    char name[96];
    blob_name(d, name);
    uint8_t h[512];
    tar_header(h, name, size, '0');
    int rc = w_write(w, h, 512);
    if (rc)
        return rc;
    uint8_t *buf = malloc(1u << 20);
    struct fmt_sha st;
    if (!buf || fmt_sha_init(&st)) {
        free(buf);
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    }
    for (uint64_t done = 0; done < size && !rc;) {
        size_t n = size - done > (1u << 20) ? (1u << 20) : (size_t)(size - done);
        rc = fmt_pread_full(src_fd, buf, n, src_off + done, w->errmsg, "source blob");
        if (!rc) {
            fmt_sha_update(&st, buf, n);
            rc = w_write(w, buf, n);
        }
        done += n;
    }
    free(buf);
    uint8_t got[VMP_DIGEST_BYTES];
    fmt_sha_final(&st, got);
    if (rc)
        return w_spend(w, rc);
    if (memcmp(got, d, VMP_DIGEST_BYTES) != 0) {
        char t1[VMP_DIGEST_TEXT], t2[VMP_DIGEST_TEXT];
        vmp_digest_to_text(d, t1);
        vmp_digest_to_text(got, t2);
        return w_fail(w, VMP_ERR_DIGEST, "source blob %s at 0x%llx: content hashes to %s", t1,
                      (unsigned long long)src_off, t2);
    }
    if ((rc = w_pad(w, size)))
        return rc;
    return w_add_layer(w, d, size, mt, e);
}

/* Streams fd to EOF into a blob: the header is written after the data,
 * when the digest (its name) is known; a duplicate is cut off again. */
static int w_blob_fd(vmp_writer *w, int fd, uint64_t max, int mt, uint8_t d[VMP_DIGEST_BYTES],
                     uint64_t *size_out, const char *what)
{
    uint64_t start = w->off;
    w->off += 512;
    uint8_t *buf = malloc(1u << 20);
    struct fmt_sha st;
    if (!buf || fmt_sha_init(&st)) {
        free(buf);
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    }
    uint64_t size = 0;
    int rc = 0;
    for (;;) {
        ssize_t k = read(fd, buf, 1u << 20);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = w_fail(w, VMP_ERR_IO, "%s: read: %s", what, strerror(errno));
            break;
        }
        if (k == 0)
            break;
        size += (uint64_t)k;
        if (size > max) {
            rc = w_fail(w, VMP_ERR_LIMIT, "%s: more than %llu bytes", what, (unsigned long long)max);
            break;
        }
        fmt_sha_update(&st, buf, (size_t)k);
        if ((rc = w_write(w, buf, (size_t)k)))
            break;
    }
    free(buf);
    fmt_sha_final(&st, d);
    if (rc)
        return rc;
    *size_out = size;
    int isnew;
    struct dmap_ent *e = dmap_put(&w->blobs, d, &isnew);
    if (!e)
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    if (!isnew) {
        if (ftruncate(w->fd, (off_t)start))
            return w_fail(w, VMP_ERR_IO, "%s: ftruncate: %s", what, strerror(errno));
        w->off = start;
        return (!e->b && mt != MT_NONE) ? w_add_layer(w, d, size, mt, e) : 0;
    }
    e->a = size;
    char name[96];
    uint8_t h[512];
    blob_name(d, name);
    tar_header(h, name, size, '0');
    if ((rc = fmt_pwrite_full(w->fd, h, 512, start, w->errmsg)))
        return w_spend(w, rc);
    if ((rc = w_pad(w, size)))
        return rc;
    return w_add_layer(w, d, size, mt, e);
}

/* ---- open ------------------------------------------------------------ */

/* spec/container.md 8: a temporary file is .<name>.tmp-<pid>-XXXXXX, held
 * with flock(LOCK_EX) by its writer until commit or destroy. Returns the
 * writer's PID when ent is a temporary of the target name, else 0. */
static long w_tmp_pid(const char *ent, const char *name)
{
    size_t nl = strlen(name);
    const char *p;
    char *end;
    long pid;

    if (ent[0] != '.' || strncmp(ent + 1, name, nl) != 0 || strncmp(ent + 1 + nl, ".tmp-", 5) != 0)
        return 0;
    p = ent + 1 + nl + 5;
    if (*p < '1' || *p > '9')
        return 0;
    errno = 0;
    pid = strtol(p, &end, 10);
    if (errno != 0 || pid <= 0 || pid > INT32_MAX || *end != '-' || strlen(end + 1) != 6)
        return 0;
    return pid;
}

/* Removes the temporaries of earlier writers to the same target that are
 * gone (a suspend whose VM was killed, spec/snapshot.md 6): only when the
 * PID in the name is not a live process AND nobody holds the file's lock,
 * so a live writer's file is never touched, even one whose PID this
 * process cannot see (another PID namespace, another host over NFS).
 * Best effort: any doubt leaves the file. */
static void w_sweep_stale(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int dfd;

    if (d == NULL)
        return;
    dfd = dirfd(d);
    while ((e = readdir(d)) != NULL) {
        long pid = w_tmp_pid(e->d_name, name);
        struct stat a, b;
        int fd;

        if (pid == 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to signal (EPERM): alive */
        fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            continue;
        if (fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            fstatat(dfd, e->d_name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            unlinkat(dfd, e->d_name, 0);
        close(fd);
    }
    closedir(d);
}

int vmp_writer_open(vmp_writer *w, const char *path)
{
    if (w->state != W_NEW)
        return fmt_err(w->errmsg, VMP_ERR_STATE, "writer: already open");
    if (!path || !*path)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "writer: empty path");
    /* spec/container.md 8 step 1: .<name>.tmp-XXXXXX in the target's folder */
    char *d1 = strdup(path), *d2 = strdup(path);
    size_t tl = strlen(path) + 48;
    char *tmp = malloc(tl);
    w->path = strdup(path);
    if (!d1 || !d2 || !tmp || !w->path) {
        free(d1);
        free(d2);
        free(tmp);
        return fmt_err(w->errmsg, VMP_ERR_NOMEM, "writer: out of memory");
    }
    const char *dir = dirname(d1), *base = basename(d2);
    snprintf(tmp, tl, "%s/.%s.tmp-%ld-XXXXXX", dir, base, (long)getpid());
    w_sweep_stale(dir, base);
    free(d1);
    free(d2);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return fmt_err(w->errmsg, VMP_ERR_IO, "%s: cannot create a temporary file: %s", path,
                       strerror(e));
    }
    /* held until close: w_sweep_stale of another writer leaves the file be */
    if (flock(fd, LOCK_EX) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return fmt_err(w->errmsg, VMP_ERR_IO, "%s: flock: %s", path, strerror(e));
    }
    struct stat sb;
    mode_t mode = 0644;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
        mode = sb.st_mode & 07777;
    if (fchmod(fd, mode)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return fmt_err(w->errmsg, VMP_ERR_IO, "%s: fchmod: %s", path, strerror(e));
    }
    w->tmp = tmp;
    w->fd = fd;
    w->state = W_OPEN;
    /* spec/container.md 2.1 order: oci-layout, directories, blobs, index.json */
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    int rc = w_member(w, "oci-layout", layout, sizeof layout - 1, '0');
    if (!rc)
        rc = w_member(w, "blobs/", NULL, 0, '5');
    if (!rc)
        rc = w_member(w, "blobs/sha256/", NULL, 0, '5');
    return rc;
}

int vmp_writer_set_level(vmp_writer *w, int level)
{
    if (level < 1 || level > 19)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "zstd level %d: must be 1..19", level);
    if (w->nimg)
        return fmt_err(w->errmsg, VMP_ERR_STATE, "zstd level: images already added");
    w->level = level;
    return 0;
}

static int cfg_check(const struct vmp_config *c, char *msg)
{
    size_t bad;
    if (c->power != VMP_POWER_OFF && c->power != VMP_POWER_SUSPENDED)
        return fmt_err(msg, VMP_ERR_INVALID, "config: power state %u", c->power);
    if (c->mem_bytes == 0 || c->mem_bytes % 4096 || c->mem_bytes > VMP_MEM_MAX_BYTES)
        return fmt_err(msg, VMP_ERR_INVALID,
                       "config: memory size %llu must be a nonzero multiple of 4096 up to 4 GiB",
                       (unsigned long long)c->mem_bytes);
    /* Every string of the config must be one the reader's JSON accepts
     * (spec/container.md 3.1), or the container would not open. */
    if (memchr(c->cmdline, 0, sizeof c->cmdline) == NULL)
        return fmt_err(msg, VMP_ERR_INVALID, "config: command line: no NUL within %d bytes",
                       VMP_CMDLINE_MAX);
    if ((bad = fmt_utf8_bad(c->cmdline)) != SIZE_MAX)
        return fmt_err(msg, VMP_ERR_INVALID, "config: command line at byte %zu: invalid UTF-8 (0x%02x)",
                       bad, (unsigned char)c->cmdline[bad]);
    if (memchr(c->cpu.name, 0, sizeof c->cpu.name) == NULL)
        return fmt_err(msg, VMP_ERR_INVALID, "config: CPU profile name: no NUL within %zu bytes",
                       sizeof c->cpu.name);
    if ((bad = fmt_utf8_bad(c->cpu.name)) != SIZE_MAX)
        return fmt_err(msg, VMP_ERR_INVALID, "config: CPU profile name at byte %zu: invalid UTF-8 (0x%02x)",
                       bad, (unsigned char)c->cpu.name[bad]);
    if (c->cpu.nleaves > VMP_PROFILE_MAX_LEAVES)
        return fmt_err(msg, VMP_ERR_INVALID, "config: CPU profile: %u leaves, limit %d", c->cpu.nleaves,
                       VMP_PROFILE_MAX_LEAVES);
    for (uint32_t i = 1; i < c->cpu.nleaves; i++) {
        const struct vmp_cpuid_leaf *a = &c->cpu.leaves[i - 1], *b = &c->cpu.leaves[i];
        if (a->leaf > b->leaf || (a->leaf == b->leaf && a->subleaf >= b->subleaf))
            return fmt_err(msg, VMP_ERR_INVALID, "config: CPU leaves not sorted at %u", i);
    }
    if (c->ndevices > VMP_MAX_DEVICES)
        return fmt_err(msg, VMP_ERR_INVALID, "config: %u devices, limit %d", c->ndevices,
                       VMP_MAX_DEVICES);
    for (uint32_t i = 0; i < c->ndevices; i++) {
        const struct vmp_device *d = &c->devices[i];
        if (!memchr(d->kind, 0, sizeof d->kind) || !memchr(d->id, 0, sizeof d->id) ||
            !memchr(d->image, 0, sizeof d->image) || !fmt_name_ok(d->kind) ||
            !fmt_name_ok(d->id) || (d->image[0] && !fmt_name_ok(d->image)))
            return fmt_err(msg, VMP_ERR_INVALID, "config: device %u: bad kind, id or image name", i);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(c->devices[j].id, d->id) == 0)
                return fmt_err(msg, VMP_ERR_INVALID, "config: device id %s twice", d->id);
    }
    return 0;
}

int vmp_writer_set_config(vmp_writer *w, const struct vmp_config *cfg)
{
    int rc = w_ready(w);
    if (rc)
        return rc;
    if ((rc = cfg_check(cfg, w->errmsg)))
        return rc;
    w->cfg = *cfg;
    w->cfg.format_version = VMP_FORMAT_VERSION;
    w->have_cfg = 1;
    return 0;
}

/* The kernel (which 0) or initrd (1): read from fd until EOF if from_fd,
 * else len bytes at data. */
static int w_boot(vmp_writer *w, int which, int from_fd, int fd, const void *data, size_t len)
{
    int rc = w_ready(w);
    if (rc)
        return rc;
    const char *what = which ? "initrd" : "kernel";
    int type = which ? MT_INITRD : MT_KERNEL;
    if (w->boot[which].present)
        return fmt_err(w->errmsg, VMP_ERR_STATE, "%s: already set", what);
    if (from_fd) {
        rc = w_blob_fd(w, fd, VMP_BOOT_BLOB_MAX_BYTES, type, w->boot[which].digest, &w->boot[which].size,
                       what);
    } else if (len > VMP_BOOT_BLOB_MAX_BYTES) {
        rc = fmt_err(w->errmsg, VMP_ERR_LIMIT, "%s: %zu bytes, limit %llu", what, len,
                     (unsigned long long)VMP_BOOT_BLOB_MAX_BYTES);
    } else {
        rc = w_blob_mem(w, data, len, type, w->boot[which].digest, NULL);
        w->boot[which].size = len;
    }
    if (rc)
        return rc;
    w->boot[which].present = 1;
    return 0;
}

int vmp_writer_set_kernel_mem(vmp_writer *w, const void *d, size_t n) { return w_boot(w, 0, 0, -1, d, n); }
int vmp_writer_set_initrd_mem(vmp_writer *w, const void *d, size_t n) { return w_boot(w, 1, 0, -1, d, n); }
int vmp_writer_set_kernel_fd(vmp_writer *w, int fd) { return w_boot(w, 0, 1, fd, NULL, 0); }
int vmp_writer_set_initrd_fd(vmp_writer *w, int fd) { return w_boot(w, 1, 1, fd, NULL, 0); }

/* ---- images -------------------------------------------------------------- */
static uint32_t chunk_len(const struct vmp_image_info *in, uint64_t idx)
{
    uint64_t off = idx * in->chunk_bytes;
    uint64_t left = in->size_bytes - off;
    return left < in->chunk_bytes ? (uint32_t)left : in->chunk_bytes;
}

/* spec/container.md 5.3: fixed level, content size, no checksum, one
 * thread per frame. Every context set up so makes the same frames. */
static void cctx_setup(ZSTD_CCtx *cc, int level)
{
    ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 0);
}

int vmp_writer_image_begin(vmp_writer *w, const struct vmp_image_desc *d, unsigned *image_id)
{
    int rc = w_ready(w);
    if (rc)
        return rc;
    if (w->open_img >= 0)
        return fmt_err(w->errmsg, VMP_ERR_STATE, "image %s: image %s is still open",
                       d->name ? d->name : "?", w->img[w->open_img].info.name);
    if (w->nimg >= VMP_MAX_IMAGES)
        return fmt_err(w->errmsg, VMP_ERR_LIMIT, "images: limit %d", VMP_MAX_IMAGES);
    if (!d->name || !fmt_name_ok(d->name))
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "image name %s: 1..63 bytes of [A-Za-z0-9._/-]",
                       d->name ? d->name : "(null)");
    for (unsigned i = 0; i < w->nimg; i++) {
        if (strcmp(w->img[i].info.name, d->name) == 0)
            return fmt_err(w->errmsg, VMP_ERR_INVALID, "image %s: name used twice", d->name);
        if (d->kind == VMP_IMAGE_RAM && w->img[i].info.kind == VMP_IMAGE_RAM)
            return fmt_err(w->errmsg, VMP_ERR_INVALID, "image %s: a second RAM image", d->name);
    }
    if (d->kind != VMP_IMAGE_DISK && d->kind != VMP_IMAGE_RAM)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "image %s: kind %u", d->name, d->kind);
    uint32_t cb = d->chunk_bytes ? d->chunk_bytes
                                 : d->kind == VMP_IMAGE_RAM ? VMP_RAM_CHUNK_DEFAULT : VMP_DISK_CHUNK_DEFAULT;
    if (cb < VMP_CHUNK_MIN || cb > VMP_CHUNK_MAX || (cb & (cb - 1)))
        return fmt_err(w->errmsg, VMP_ERR_INVALID,
                       "image %s: chunk size %u is not a power of two in 4 KiB..16 MiB", d->name, cb);
    if (d->size_bytes > VMP_IMAGE_MAX_BYTES)
        return fmt_err(w->errmsg, VMP_ERR_LIMIT, "image %s: size %llu above the limit %llu",
                       d->name, (unsigned long long)d->size_bytes,
                       (unsigned long long)VMP_IMAGE_MAX_BYTES);
    if (d->flags & ~(uint32_t)VMP_IMAGE_READ_ONLY)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "image %s: unknown flags 0x%x", d->name, d->flags);
    if (!w->cctx) {
        w->cctx = ZSTD_createCCtx();
        if (!w->cctx)
            return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    }
    cctx_setup(w->cctx, w->level);
    size_t need = ZSTD_compressBound(cb);
    if (w->cbuf_cap < need) {
        uint8_t *b = realloc(w->cbuf, need);
        if (!b)
            return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
        w->cbuf = b;
        w->cbuf_cap = need;
    }
    struct wimage *im = &w->img[w->nimg];
    memset(im, 0, sizeof *im);
    snprintf(im->info.name, sizeof im->info.name, "%s", d->name);
    im->info.kind = d->kind;
    im->info.flags = d->flags;
    im->info.size_bytes = d->size_bytes;
    im->info.chunk_bytes = cb;
    im->info.nchunks = (d->size_bytes + cb - 1) / cb;
    im->open = 1;
    *image_id = w->nimg;
    w->open_img = (int)w->nimg;
    w->nimg++;
    return 0;
}

/* *out is image id, which must be open in a writer that is ready. */
static int w_open_image(vmp_writer *w, unsigned id, struct wimage **out)
{
    int rc = w_ready(w);
    if (rc)
        return rc;
    if (id >= w->nimg || !w->img[id].open)
        return fmt_err(w->errmsg, VMP_ERR_STATE, "image %u: not open", id);
    *out = &w->img[id];
    return 0;
}

/* As w_open_image, and idx must be one of its chunks. */
static int w_image_arg(vmp_writer *w, unsigned id, uint64_t idx, struct wimage **out)
{
    int rc = w_open_image(w, id, out);
    if (rc)
        return rc;
    if (idx >= w->img[id].info.nchunks)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "image %s: chunk %llu of %llu",
                       w->img[id].info.name, (unsigned long long)idx,
                       (unsigned long long)w->img[id].info.nchunks);
    *out = &w->img[id];
    return 0;
}

static struct went *w_entry(vmp_writer *w, struct wimage *im)
{
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 256;
        struct went *e = realloc(im->e, cap * sizeof *e);
        if (!e) {
            w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
            return NULL;
        }
        im->e = e;
        im->cap = cap;
    }
    struct went *e = &im->e[im->n++];
    memset(e, 0, sizeof *e);
    e->seq = w->seq++;
    return e;
}

static int all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Stores the zstd frame z of entry e's chunk (its uncompressed digest is
 * set and not yet known to the writer), or notes that an equal blob is
 * already stored. */
static int w_record(vmp_writer *w, struct wimage *im, struct went *e, const uint8_t *z, size_t zn,
                    const uint8_t *cd)
{
    if (ZSTD_isError(zn))
        return w_fail(w, VMP_ERR_INVALID, "image %s: chunk %llu: zstd: %s", im->info.name,
                      (unsigned long long)e->idx, ZSTD_getErrorName(zn));
    int fresh, rc;
    if (cd)
        memcpy(e->cd, cd, VMP_DIGEST_BYTES);
    if ((rc = cd ? w_blob_mem_known(w, z, zn, MT_CHUNK, e->cd, &fresh)
                 : w_blob_mem(w, z, zn, MT_CHUNK, e->cd, &fresh)))
        return rc;
    e->csize = zn;
    if (fresh)
        im->st.bytes_compressed += zn;
    else
        im->st.chunks_dedup++;
    struct dmap_ent *b = dmap_get(&w->blobs, e->cd);
    struct dmap_ent *c = dmap_put(&w->chunks, e->ud, NULL);
    if (!c)
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    c->b = b->b;
    return 0;
}

/* A chunk already in the writer under its uncompressed digest. */
static int w_known(vmp_writer *w, struct wimage *im, struct went *e)
{
    struct dmap_ent *c = dmap_get(&w->chunks, e->ud);
    if (!c)
        return 0;
    const struct wlayer *l = &w->layers[c->b - 1];
    memcpy(e->cd, l->digest, VMP_DIGEST_BYTES);
    e->csize = l->size;
    im->st.chunks_dedup++;
    return 1;
}

int vmp_writer_image_put_chunk(vmp_writer *w, unsigned id, uint64_t idx, const void *data, size_t len)
{
    struct wimage *im = NULL;
    int rc = w_image_arg(w, id, idx, &im);
    if (rc)
        return rc;
    uint32_t want = chunk_len(&im->info, idx);
    if (len != want)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "image %s: chunk %llu is %u bytes, given %zu",
                       im->info.name, (unsigned long long)idx, want, len);
    struct went *e = w_entry(w, im);
    if (!e)
        return VMP_ERR_NOMEM;
    e->idx = idx;
    e->usize = want;
    if (all_zero(data, len)) {
        e->zero = 1; /* spec/container.md 5.3: no blob */
        return 0;
    }
    vmp_sha256(data, len, e->ud);
    if (w_known(w, im, e))
        return 0;
    size_t cn = ZSTD_compress2(w->cctx, w->cbuf, w->cbuf_cap, data, len);
    return w_record(w, im, e, w->cbuf, cn, NULL);
}

/* ---- put_chunks: a caller's chunks prepared by the writer's threads
 * (zero test, uncompressed digest, zstd frame, digest of the frame), then
 * recorded in the order given on the calling thread: the same entries and
 * blobs, in the same order, as put_chunk for each in turn. */
struct pjob {
    struct vmp_chunk_put *c;
    uint8_t *out;
    size_t outcap, outlen;
    uint8_t ud[VMP_DIGEST_BYTES], cd[VMP_DIGEST_BYTES];
};

struct pwork {
    ZSTD_CCtx *cc;
    struct pjob *jobs;
    size_t njobs, first, step;
    const struct dmap *known; /* w->chunks: read only while the workers run */
};

static void *pwork_run(void *arg)
{
    struct pwork *p = arg;
    for (size_t i = p->first; i < p->njobs; i += p->step) {
        struct pjob *j = &p->jobs[i];
        struct vmp_chunk_put *c = j->c;
        if (all_zero(c->data, c->len)) {
            c->outcome = VMP_PUT_ZERO;
            continue;
        }
        vmp_sha256(c->data, c->len, j->ud);
        if (c->skip_udigest && memcmp(j->ud, c->skip_udigest, VMP_DIGEST_BYTES) == 0) {
            c->outcome = VMP_PUT_SKIPPED;
            continue;
        }
        c->outcome = VMP_PUT_STORED;
        /* already in the writer: recorded by w_known, no frame needed */
        if (dmap_get(p->known, j->ud))
            continue;
        j->outlen = ZSTD_compress2(p->cc, j->out, j->outcap, c->data, c->len);
        if (!ZSTD_isError(j->outlen))
            vmp_sha256(j->out, j->outlen, j->cd);
    }
    return NULL;
}

#define PUT_CHUNKS_MAX 256

/* The chunks c[0..n) of im (checked, n <= PUT_CHUNKS_MAX), prepared on up
 * to w->threads threads and recorded in order: put_chunks and whole images
 * (w_add_image) both. */
static int w_put_batch(vmp_writer *w, struct wimage *im, struct vmp_chunk_put *c, size_t n)
{
    size_t zcap = ZSTD_compressBound(im->info.chunk_bytes);
    if (w->pbuf_cap < n * zcap) {
        uint8_t *b = realloc(w->pbuf, n * zcap);
        if (!b)
            return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
        w->pbuf = b;
        w->pbuf_cap = n * zcap;
    }
    struct pjob jobs[PUT_CHUNKS_MAX];
    for (size_t k = 0; k < n; k++)
        jobs[k] = (struct pjob){.c = &c[k], .out = w->pbuf + k * zcap, .outcap = zcap};
    unsigned used = w->threads < n ? w->threads : (unsigned)n, started = 1;
    struct pwork work[64];
    pthread_t tid[64];
    for (unsigned t = 0; t < used; t++) {
        ZSTD_CCtx **cc = t ? &w->pcc[t] : &w->cctx;
        if (!*cc && !(*cc = ZSTD_createCCtx()))
            return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
        /* cctx_setup every call: the same parameters make the same frames */
        cctx_setup(*cc, w->level);
        work[t] = (struct pwork){*cc, jobs, n, t, used, &w->chunks};
    }
    for (unsigned t = 1; t < used; t++, started++)
        if (pthread_create(&tid[t], NULL, pwork_run, &work[t]))
            break;
    /* this thread takes its share, and the shares of threads that did not start */
    for (unsigned t = 0; t < used; t++)
        if (t == 0 || t >= started)
            pwork_run(&work[t]);
    for (unsigned t = 1; t < started; t++)
        pthread_join(tid[t], NULL);
    int rc = 0;
    for (size_t k = 0; k < n && !rc; k++) {
        if (c[k].outcome == VMP_PUT_SKIPPED)
            continue;
        struct went *e = w_entry(w, im);
        if (!e)
            return VMP_ERR_NOMEM;
        e->idx = c[k].index;
        e->usize = (uint32_t)c[k].len;
        if (c[k].outcome == VMP_PUT_ZERO) {
            e->zero = 1; /* spec/container.md 5.3: no blob */
            continue;
        }
        memcpy(e->ud, jobs[k].ud, VMP_DIGEST_BYTES);
        if (!w_known(w, im, e))
            rc = w_record(w, im, e, jobs[k].out, jobs[k].outlen, jobs[k].cd);
    }
    return rc;
}

int vmp_writer_image_put_chunks(vmp_writer *w, unsigned id, struct vmp_chunk_put *c, size_t n)
{
    struct wimage *im = NULL;
    if (n > PUT_CHUNKS_MAX)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "put_chunks: %zu chunks, at most %d", n,
                       PUT_CHUNKS_MAX);
    for (size_t k = 0; k < n; k++) {
        int rc = w_image_arg(w, id, c[k].index, &im);
        if (rc)
            return rc;
        uint32_t want = chunk_len(&im->info, c[k].index);
        if (c[k].len != want)
            return fmt_err(w->errmsg, VMP_ERR_INVALID, "image %s: chunk %llu is %u bytes, given %zu",
                           im->info.name, (unsigned long long)c[k].index, want, c[k].len);
    }
    if (n == 0)
        return w_open_image(w, id, &im);
    return w_put_batch(w, im, c, n);
}

/* Records chunk idx of im as the stored chunk sc of reader src (sizes
 * already checked), copying its blob unless the writer has it. */
static int w_copy_one(vmp_writer *w, struct wimage *im, uint64_t idx, vmp_reader *src,
                      const struct rd_chunk *sc)
{
    struct went *e = w_entry(w, im);
    if (!e)
        return VMP_ERR_NOMEM;
    e->idx = idx;
    e->usize = sc->usize;
    memcpy(e->ud, sc->udigest, VMP_DIGEST_BYTES);
    memcpy(e->cd, sc->cdigest, VMP_DIGEST_BYTES);
    e->csize = sc->csize;
    int fresh;
    int rc = w_blob_copy(w, src->fd, sc->data_off, sc->csize, sc->cdigest, MT_CHUNK, &fresh);
    if (rc)
        return rc;
    if (fresh)
        im->st.bytes_compressed += sc->csize;
    else
        im->st.chunks_dedup++;
    if (!dmap_get(&w->chunks, sc->udigest)) {
        struct dmap_ent *c = dmap_put(&w->chunks, sc->udigest, NULL);
        if (!c)
            return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
        c->b = dmap_get(&w->blobs, sc->cdigest)->b;
    }
    return 0;
}

int vmp_writer_image_copy_chunk(vmp_writer *w, unsigned id, uint64_t dst, vmp_reader *src,
                                unsigned src_image, uint64_t src_chunk)
{
    struct wimage *im = NULL;
    int rc = w_image_arg(w, id, dst, &im);
    if (rc)
        return rc;
    if (!src || src->fd < 0 || src_image >= src->nimg)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "copy: no image %u in the source", src_image);
    const struct rd_image *si = &src->img[src_image];
    if (src_chunk >= si->info.nchunks)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "copy: source image %s has no chunk %llu",
                       si->info.name, (unsigned long long)src_chunk);
    uint32_t want = chunk_len(&im->info, dst), have = chunk_len(&si->info, src_chunk);
    if (want != have)
        return fmt_err(w->errmsg, VMP_ERR_INVALID,
                       "copy: chunk %llu of %s is %u bytes, source chunk %llu of %s is %u",
                       (unsigned long long)dst, im->info.name, want, (unsigned long long)src_chunk,
                       si->info.name, have);
    const struct rd_chunk *sc = rd_chunk_at(si, src_chunk);
    if (!sc) {
        struct went *e = w_entry(w, im);
        if (!e)
            return VMP_ERR_NOMEM;
        e->idx = dst;
        e->usize = want;
        e->zero = 1;
        return 0;
    }
    return w_spend(w, w_copy_one(w, im, dst, src, sc));
}

int vmp_writer_image_copy_image(vmp_writer *w, unsigned id, vmp_reader *src, unsigned src_image)
{
    struct wimage *im = NULL;
    int rc = w_open_image(w, id, &im);
    if (rc)
        return rc;
    if (!src || src->fd < 0 || src_image >= src->nimg)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "copy: no image %u in the source", src_image);
    const struct rd_image *si = &src->img[src_image];
    if (si->info.chunk_bytes != im->info.chunk_bytes)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "copy: %s has %u-byte chunks, %s %u-byte",
                       si->info.name, si->info.chunk_bytes, im->info.name, im->info.chunk_bytes);
    if (si->info.size_bytes > im->info.size_bytes ||
        (si->info.size_bytes < im->info.size_bytes && si->info.size_bytes % si->info.chunk_bytes))
        return fmt_err(w->errmsg, VMP_ERR_INVALID,
                       "copy: source image %s (%llu bytes) does not fit image %s (%llu bytes) in whole chunks",
                       si->info.name, (unsigned long long)si->info.size_bytes, im->info.name,
                       (unsigned long long)im->info.size_bytes);
    if (im->copy_src)
        return fmt_err(w->errmsg, VMP_ERR_STATE, "image %s: already copies an image", im->info.name);
    im->copy_src = src;
    im->copy_img = src_image;
    return 0;
}

static int went_cmp(const void *a, const void *b)
{
    const struct went *x = a, *y = b;
    if (x->idx != y->idx)
        return x->idx < y->idx ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int vmp_writer_image_end(vmp_writer *w, unsigned id)
{
    struct wimage *im = NULL;
    int rc = w_open_image(w, id, &im);
    if (rc)
        return rc;
    qsort(im->e, im->n, sizeof *im->e, went_cmp);
    for (size_t i = 1; i < im->n; i++)
        if (im->e[i].idx == im->e[i - 1].idx)
            return w_fail(w, VMP_ERR_STATE, "image %s: chunk %llu given twice", im->info.name,
                          (unsigned long long)im->e[i].idx);
    if (im->copy_src) {
        /* copy_image: every source chunk not given explicitly, in chunk order */
        const struct rd_image *si = &im->copy_src->img[im->copy_img];
        size_t given = im->n, j = 0;
        for (uint64_t k = 0; k < si->nchunks; k++) {
            const struct rd_chunk *sc = &si->chunks[k];
            uint64_t idx = sc->offset / si->info.chunk_bytes;
            while (j < given && im->e[j].idx < idx)
                j++;
            if (j < given && im->e[j].idx == idx)
                continue;
            if ((rc = w_copy_one(w, im, idx, im->copy_src, sc)))
                return w_spend(w, rc);
        }
        qsort(im->e, im->n, sizeof *im->e, went_cmp);
        im->copy_src = NULL;
    }
    /* spec/container.md 5.2 */
    size_t stored = 0;
    for (size_t i = 0; i < im->n; i++)
        stored += !im->e[i].zero;
    size_t len = 32 + 88 * stored;
    uint8_t *b = calloc(1, len);
    if (!b)
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    memcpy(b, "VMPCIDX1", 8);
    le32_put(b + 8, 1);
    le32_put(b + 12, im->info.chunk_bytes);
    le64_put(b + 16, im->info.size_bytes);
    le64_put(b + 24, stored);
    uint8_t *p = b + 32;
    for (size_t i = 0; i < im->n; i++) {
        const struct went *e = &im->e[i];
        if (e->zero)
            continue;
        le64_put(p, e->idx * im->info.chunk_bytes);
        le32_put(p + 8, e->usize);
        le64_put(p + 16, e->csize);
        memcpy(p + 24, e->ud, 32);
        memcpy(p + 56, e->cd, 32);
        im->st.bytes_uncompressed += e->usize;
        p += 88;
    }
    rc = w_blob_mem(w, b, len, MT_INDEX, im->info.index_digest, NULL);
    free(b);
    if (rc)
        return rc;
    im->index_size = len;
    im->info.stored_chunks = stored;
    im->st.chunks_total = im->info.nchunks;
    im->st.chunks_stored = stored;
    im->st.chunks_zero = im->info.nchunks - stored;
    free(im->e);
    im->e = NULL;
    im->n = im->cap = 0;
    im->open = 0;
    im->done = 1;
    w->open_img = -1;
    return 0;
}

int vmp_writer_image_stats(const vmp_writer *w, unsigned id, struct vmp_image_stats *st)
{
    if (id >= w->nimg || !w->img[id].done)
        return VMP_ERR_NOT_FOUND;
    *st = w->img[id].st;
    return 0;
}

static int read_full(int fd, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t k = read(fd, buf + *got, n - *got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        *got += (size_t)k;
    }
    return 0;
}

struct fd_src {
    int fd;
    vmp_writer *w;
    const char *name;
};

static int fd_source(void *ctx, uint64_t idx, void *buf, size_t len)
{
    struct fd_src *s = ctx;
    size_t got;
    if (read_full(s->fd, buf, len, &got))
        return fmt_err(s->w->errmsg, VMP_ERR_IO, "image %s: read at chunk %llu: %s", s->name,
                       (unsigned long long)idx, strerror(errno));
    if (got != len)
        return fmt_err(s->w->errmsg, VMP_ERR_IO, "image %s: input ends in chunk %llu (%zu of %zu bytes)",
                       s->name, (unsigned long long)idx, got, len);
    return 0;
}

int vmp_writer_set_threads(vmp_writer *w, unsigned n)
{
    if (n < 1 || n > 64)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "threads: %u, must be 1..64", n);
    w->threads = n;
    return 0;
}

/* Whole images: read in batches of up to PUT_CHUNKS_MAX chunks (about
 * 4 MiB, at least two per thread), each given to w_put_batch, so the file is
 * the same for any thread count. */
static int w_add_image(vmp_writer *w, const struct vmp_image_desc *d, vmp_chunk_source_fn fn,
                       void *ctx, int from_fd)
{
    unsigned id;
    int rc = vmp_writer_image_begin(w, d, &id);
    if (rc)
        return rc;
    struct wimage *im = &w->img[id];
    const struct vmp_image_info *in = &im->info;
    size_t batch = (4u << 20) / in->chunk_bytes;
    if (batch < 2 * (size_t)w->threads)
        batch = 2 * (size_t)w->threads;
    if (batch > PUT_CHUNKS_MAX)
        batch = PUT_CHUNKS_MAX;
    uint8_t *ibuf = malloc(batch * in->chunk_bytes);
    struct vmp_chunk_put c[PUT_CHUNKS_MAX];
    if (!ibuf)
        rc = w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    for (uint64_t base = 0; base < in->nchunks && !rc; base += batch) {
        size_t n = in->nchunks - base < batch ? (size_t)(in->nchunks - base) : batch;
        for (size_t k = 0; k < n && !rc; k++) {
            c[k] = (struct vmp_chunk_put){.index = base + k, .data = ibuf + k * in->chunk_bytes,
                                          .len = chunk_len(in, base + k)};
            int cb = fn(ctx, base + k, ibuf + k * in->chunk_bytes, c[k].len);
            if (cb)
                rc = from_fd ? w_spend(w, cb)
                             : w_fail(w, VMP_ERR_CALLBACK, "image %s: source callback failed at chunk %llu",
                                      in->name, (unsigned long long)(base + k));
        }
        if (!rc)
            rc = w_put_batch(w, im, c, n);
    }
    free(ibuf);
    if (!rc)
        rc = vmp_writer_image_end(w, id);
    return rc;
}

int vmp_writer_add_image_fd(vmp_writer *w, const struct vmp_image_desc *d, int fd)
{
    struct fd_src s = {fd, w, d->name ? d->name : "?"};
    return w_add_image(w, d, fd_source, &s, 1);
}

int vmp_writer_add_image_cb(vmp_writer *w, const struct vmp_image_desc *d, vmp_chunk_source_fn fn,
                            void *ctx)
{
    return w_add_image(w, d, fn, ctx, 0);
}

/* ---- sections ----------------------------------------------------------- */
int vmp_writer_add_section(vmp_writer *w, const char *id, uint32_t version, uint32_t flags,
                           const void *data, size_t len)
{
    int rc = w_ready(w);
    if (rc)
        return rc;
    if (!id || !fmt_name_ok(id))
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "section id %s: 1..63 bytes of [A-Za-z0-9._/-]",
                       id ? id : "(null)");
    if (version == 0 || (flags & ~(uint32_t)VMP_SECTION_REQUIRED))
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "section %s: version %u, flags 0x%x", id, version,
                       flags);
    if (!data && len)
        return fmt_err(w->errmsg, VMP_ERR_INVALID, "section %s: no data for %zu bytes", id, len);
    if (len > VMP_SECTION_MAX_BYTES)
        return fmt_err(w->errmsg, VMP_ERR_LIMIT, "section %s: %zu bytes, limit %u", id, len,
                       VMP_SECTION_MAX_BYTES);
    if (w->nsec >= VMP_MAX_SECTIONS)
        return fmt_err(w->errmsg, VMP_ERR_LIMIT, "sections: limit %d", VMP_MAX_SECTIONS);
    for (unsigned i = 0; i < w->nsec; i++)
        if (strcmp(w->sec[i].id, id) == 0)
            return fmt_err(w->errmsg, VMP_ERR_INVALID, "section %s: added twice", id);
    struct vmp_section_info *s = &w->sec[w->nsec];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    s->version = version;
    s->flags = flags;
    s->size_bytes = len;
    if ((rc = w_blob_mem(w, data ? data : "", len, MT_SECTION, s->digest, NULL)))
        return rc;
    w->nsec++;
    return 0;
}

/* ---- commit -------------------------------------------------------------- */
static void json_desc(struct strbuf *b, const uint8_t d[VMP_DIGEST_BYTES], uint64_t size)
{
    sb_puts(b, "{\"digest\":");
    sb_digest(b, d);
    sb_printf(b, ",\"size\":%llu}", (unsigned long long)size);
}

/* spec/container.md 4: members in the documented order, compact. */
static void config_json(const vmp_writer *w, struct strbuf *b)
{
    const struct vmp_config *c = &w->cfg;
    sb_puts(b, "{\"architecture\":\"386\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
               "\"vmpack\":{\"mediaType\":\"" VMP_MT_CONFIG "\"");
    sb_printf(b, ",\"format_version\":%d,\"power\":", VMP_FORMAT_VERSION);
    sb_puts(b, c->power == VMP_POWER_SUSPENDED ? "\"suspended\"" : "\"off\"");
    sb_printf(b, ",\"memory\":{\"size\":%llu},\"cpu\":{\"name\":", (unsigned long long)c->mem_bytes);
    sb_json_str(b, c->cpu.name);
    sb_puts(b, ",\"leaves\":[");
    for (uint32_t i = 0; i < c->cpu.nleaves; i++) {
        const struct vmp_cpuid_leaf *l = &c->cpu.leaves[i];
        sb_printf(b, "%s[%u,%u,%u,%u,%u,%u]", i ? "," : "", l->leaf, l->subleaf, l->eax, l->ebx,
                  l->ecx, l->edx);
    }
    sb_puts(b, "]},\"boot\":{");
    for (int k = 0; k < 2; k++) {
        sb_puts(b, k ? ",\"initrd\":" : "\"kernel\":");
        if (w->boot[k].present)
            json_desc(b, w->boot[k].digest, w->boot[k].size);
        else
            sb_puts(b, "null");
    }
    sb_puts(b, ",\"cmdline\":");
    sb_json_str(b, c->cmdline);
    sb_puts(b, "},\"devices\":[");
    for (uint32_t i = 0; i < c->ndevices; i++) {
        sb_puts(b, i ? ",{\"kind\":" : "{\"kind\":");
        sb_json_str(b, c->devices[i].kind);
        sb_puts(b, ",\"id\":");
        sb_json_str(b, c->devices[i].id);
        sb_puts(b, ",\"image\":");
        sb_json_str(b, c->devices[i].image);
        sb_puts(b, "}");
    }
    sb_puts(b, "],\"images\":[");
    for (unsigned i = 0; i < w->nimg; i++) {
        const struct wimage *im = &w->img[i];
        sb_puts(b, i ? ",{\"name\":" : "{\"name\":");
        sb_json_str(b, im->info.name);
        sb_printf(b, ",\"kind\":\"%s\",\"size\":%llu,\"chunk_size\":%u,\"read_only\":%s,\"index\":",
                  im->info.kind == VMP_IMAGE_RAM ? "ram" : "disk",
                  (unsigned long long)im->info.size_bytes, im->info.chunk_bytes,
                  (im->info.flags & VMP_IMAGE_READ_ONLY) ? "true" : "false");
        json_desc(b, im->info.index_digest, im->index_size);
        sb_puts(b, "}");
    }
    sb_puts(b, "],\"sections\":[");
    for (unsigned i = 0; i < w->nsec; i++) {
        const struct vmp_section_info *s = &w->sec[i];
        sb_puts(b, i ? ",{\"id\":" : "{\"id\":");
        sb_json_str(b, s->id);
        sb_printf(b, ",\"version\":%u,\"required\":%s,\"digest\":", s->version,
                  (s->flags & VMP_SECTION_REQUIRED) ? "true" : "false");
        sb_digest(b, s->digest);
        sb_printf(b, ",\"size\":%llu}", (unsigned long long)s->size_bytes);
    }
    sb_puts(b, "]}}");
}

/* spec/container.md 3.2 */
static void manifest_json(const vmp_writer *w, const uint8_t cd[VMP_DIGEST_BYTES], uint64_t csize,
                          struct strbuf *b)
{
    sb_puts(b, "{\"schemaVersion\":2,\"mediaType\":\"" VMP_MT_OCI_MANIFEST "\","
               "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":");
    sb_digest(b, cd);
    sb_printf(b, ",\"size\":%llu},\"layers\":[", (unsigned long long)csize);
    for (size_t i = 0; i < w->nlayers; i++) {
        const struct wlayer *l = &w->layers[i];
        sb_puts(b, i ? ",{\"mediaType\":\"" : "{\"mediaType\":\"");
        sb_puts(b, mt_names[l->mt]);
        sb_puts(b, "\",\"digest\":");
        sb_digest(b, l->digest);
        sb_printf(b, ",\"size\":%llu}", (unsigned long long)l->size);
    }
    sb_puts(b, "],\"annotations\":{\"org.vmpack.format.version\":\"1\","
               "\"org.vmpack.config.mediaType\":\"" VMP_MT_CONFIG "\"}}");
}

/* index.json, the end of the archive, then spec/container.md 8 steps 3-5. */
static int w_finish(vmp_writer *w, const uint8_t md[VMP_DIGEST_BYTES], uint64_t msize)
{
    struct strbuf b = {0};
    sb_puts(&b, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" VMP_MT_OCI_MANIFEST
                "\",\"digest\":");
    sb_digest(&b, md);
    sb_printf(&b, ",\"size\":%llu}]", (unsigned long long)msize);
    if (w->nsigs) {
        sb_puts(&b, ",\"annotations\":{\"org.vmpack.signatures\":\"");
        for (size_t i = 0; i < w->nsigs; i++) {
            char t[VMP_DIGEST_TEXT];
            vmp_digest_to_text(w->sigs[i], t);
            if (i)
                sb_puts(&b, ",");
            sb_puts(&b, t);
        }
        sb_puts(&b, "\"}");
    }
    sb_puts(&b, "}");
    if (b.oom) {
        sb_free(&b);
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    }
    int rc = w_member(w, "index.json", b.p, b.len, '0');
    sb_free(&b);
    if (!rc)
        rc = w_write(w, zeros, 1024);
    if (rc)
        return rc;
    if (fsync(w->fd))
        return w_fail(w, VMP_ERR_IO, "%s: fsync: %s", w->tmp, strerror(errno));
    int fd = w->fd;
    w->fd = -1;
    if (close(fd))
        return w_fail(w, VMP_ERR_IO, "%s: close: %s", w->tmp, strerror(errno));
    if (rename(w->tmp, w->path))
        return w_fail(w, VMP_ERR_IO, "rename %s to %s: %s", w->tmp, w->path, strerror(errno));
    w->state = W_DONE;
    char *d = strdup(w->path);
    if (!d)
        return fmt_err(w->errmsg, VMP_ERR_NOMEM, "writer: out of memory");
    int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = 0;
    if (dfd < 0 || fsync(dfd))
        e = errno;
    if (dfd >= 0)
        close(dfd);
    free(d);
    if (e)
        return fmt_err(w->errmsg, VMP_ERR_IO, "%s: fsync of its folder: %s (the file is complete)",
                       w->path, strerror(e));
    return 0;
}

int vmp_writer_commit(vmp_writer *w, uint8_t out_md[VMP_DIGEST_BYTES])
{
    int rc = w_ready(w);
    if (rc)
        return rc;
    if (w->open_img >= 0)
        return w_fail(w, VMP_ERR_STATE, "commit: image %s is still open", w->img[w->open_img].info.name);
    if (!w->have_cfg)
        return w_fail(w, VMP_ERR_STATE, "commit: no config set");
    /* cross-checks of spec/container.md 4.1, 4.3, 5.1 */
    int ram = -1;
    for (unsigned i = 0; i < w->nimg; i++)
        if (w->img[i].info.kind == VMP_IMAGE_RAM)
            ram = (int)i;
    if (ram >= 0 && w->img[ram].info.size_bytes != w->cfg.mem_bytes)
        return w_fail(w, VMP_ERR_INVALID, "commit: RAM image is %llu bytes, memory is %llu",
                      (unsigned long long)w->img[ram].info.size_bytes,
                      (unsigned long long)w->cfg.mem_bytes);
    if (w->cfg.power == VMP_POWER_SUSPENDED) {
        int cpu = 0;
        for (unsigned i = 0; i < w->nsec; i++)
            cpu |= strcmp(w->sec[i].id, VMP_X86_SECTION_ID) == 0;
        if (ram < 0 || !cpu)
            return w_fail(w, VMP_ERR_INVALID, "commit: a suspended container needs a RAM image and an %s section",
                          VMP_X86_SECTION_ID);
    }
    for (uint32_t i = 0; i < w->cfg.ndevices; i++) {
        const struct vmp_device *d = &w->cfg.devices[i];
        if (!d->image[0])
            continue;
        unsigned j;
        for (j = 0; j < w->nimg; j++)
            if (strcmp(w->img[j].info.name, d->image) == 0 && w->img[j].info.kind == VMP_IMAGE_DISK)
                break;
        if (j == w->nimg)
            return w_fail(w, VMP_ERR_INVALID, "commit: device %s: no disk image %s", d->id, d->image);
    }
    struct strbuf b = {0};
    config_json(w, &b);
    if (b.oom) {
        sb_free(&b);
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    }
    uint8_t cd[VMP_DIGEST_BYTES], md[VMP_DIGEST_BYTES];
    rc = w_blob_mem(w, b.p, b.len, MT_NONE, cd, NULL);
    uint64_t csize = b.len;
    sb_free(&b);
    if (rc)
        return rc;
    manifest_json(w, cd, csize, &b);
    if (b.oom) {
        sb_free(&b);
        return w_fail(w, VMP_ERR_NOMEM, "writer: out of memory");
    }
    rc = w_blob_mem(w, b.p, b.len, MT_NONE, md, NULL);
    uint64_t msize = b.len;
    sb_free(&b);
    if (rc)
        return rc;
    if ((rc = w_finish(w, md, msize)))
        return rc;
    if (out_md)
        memcpy(out_md, md, VMP_DIGEST_BYTES);
    return 0;
}

/* spec/container.md 7.1: every blob byte for byte in tar order, kept
 * signatures, the new signature, a new index.json. */
int writer_resign(vmp_reader *r, const char *path, const uint8_t (*keep)[VMP_DIGEST_BYTES],
                  size_t nkeep, const void *sigblob, size_t siglen, char *msg)
{
    vmp_writer *w;
    int rc = vmp_writer_create(&w);
    if (rc)
        return fmt_err(msg, rc, "sign: out of memory");
    if ((rc = vmp_writer_open(w, path)))
        goto out;
    w->sigs = calloc(nkeep + 1, sizeof *w->sigs);
    if (!w->sigs) {
        rc = w_fail(w, VMP_ERR_NOMEM, "sign: out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->nm && !rc; i++) {
        const struct tar_member *m = &r->m[i];
        if (m->kind != TAR_BLOB)
            continue;
        int is_sig = 0, kept = 0;
        for (unsigned s = 0; s < r->nsig; s++)
            is_sig |= memcmp(r->sig[s].info.digest, m->digest, VMP_DIGEST_BYTES) == 0;
        for (size_t k = 0; k < nkeep; k++)
            kept |= memcmp(keep[k], m->digest, VMP_DIGEST_BYTES) == 0;
        if (is_sig && !kept)
            continue;
        rc = w_blob_copy(w, r->fd, m->data_off, m->size, m->digest, MT_NONE, NULL);
    }
    if (rc)
        goto out;
    memcpy(w->sigs, keep, nkeep * sizeof *keep);
    w->nsigs = nkeep;
    if ((rc = w_blob_mem(w, sigblob, siglen, MT_NONE, w->sigs[w->nsigs], NULL)))
        goto out;
    w->nsigs++;
    rc = w_finish(w, r->manifest_digest, r->manifest_size);
out:
    if (rc)
        fmt_err(msg, rc, "%s", w->errmsg);
    vmp_writer_destroy(w);
    return rc;
}
