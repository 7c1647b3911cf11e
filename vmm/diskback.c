/*
 * diskback.c - copy-on-write block backend over a container's disk chunks
 * (diskback.h). Two bitmaps per chunk: `local` (the working file holds the
 * chunk's current bytes) and `dirty` (the guest wrote it). They are the
 * same today; they are kept apart so that a later read cache may fill the
 * working file without making chunks dirty.
 */
#include "diskback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct diskback {
    struct blk_backend be;
    vmp_reader *reader;
    unsigned image;
    uint64_t size_bytes;
    uint32_t chunk_bytes;
    uint64_t nchunks;
    int fd; /* the working file */
    uint64_t *local;
    uint64_t *dirty;
    uint64_t ndirty;
    uint8_t *cache;       /* one decoded container chunk */
    uint64_t cache_chunk; /* UINT64_MAX: empty */
    char errmsg[256];
};

static int bit_get(const uint64_t *bm, uint64_t i)
{
    return (int)((bm[i / 64] >> (i % 64)) & 1);
}

static void bit_set(uint64_t *bm, uint64_t i)
{
    bm[i / 64] |= 1ull << (i % 64);
}

static void db_fail(struct diskback *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void db_fail(struct diskback *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->errmsg, sizeof d->errmsg, fmt, ap);
    va_end(ap);
}

static uint32_t chunk_len(const struct diskback *d, uint64_t chunk)
{
    uint64_t off = chunk * d->chunk_bytes;
    uint64_t left = d->size_bytes - off;

    return left < d->chunk_bytes ? (uint32_t)left : d->chunk_bytes;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) { /* past the end of the sparse file: zeros */
            memset(p, 0, len);
            return 0;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* The container's bytes of chunk, through the one-chunk cache. */
static const uint8_t *container_chunk(struct diskback *d, uint64_t chunk)
{
    int rc;

    if (d->cache_chunk == chunk)
        return d->cache;
    d->cache_chunk = UINT64_MAX;
    rc = vmp_reader_read_chunk(d->reader, d->image, chunk, d->cache, d->chunk_bytes, NULL);
    if (rc != 0) {
        db_fail(d, "disk chunk %llu: %s", (unsigned long long)chunk, vmp_reader_errmsg(d->reader));
        return NULL;
    }
    d->cache_chunk = chunk;
    return d->cache;
}

static int db_read_bytes(struct diskback *d, uint64_t off, size_t len, uint8_t *buf)
{
    while (len > 0) {
        uint64_t chunk = off / d->chunk_bytes;
        uint32_t in = (uint32_t)(off % d->chunk_bytes);
        size_t n = d->chunk_bytes - in;

        if (n > len)
            n = len;
        if (bit_get(d->local, chunk)) {
            if (pread_full(d->fd, buf, n, off) != 0) {
                db_fail(d, "working file: read at %llu: %s", (unsigned long long)off,
                        strerror(errno));
                return DEV_EIO;
            }
        } else {
            const uint8_t *src = container_chunk(d, chunk);

            if (src == NULL)
                return DEV_EIO;
            memcpy(buf, src + in, n);
        }
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

static int db_write_bytes(struct diskback *d, uint64_t off, size_t len, const uint8_t *buf)
{
    while (len > 0) {
        uint64_t chunk = off / d->chunk_bytes;
        uint32_t in = (uint32_t)(off % d->chunk_bytes);
        size_t n = d->chunk_bytes - in;

        if (n > len)
            n = len;
        if (!bit_get(d->local, chunk) && n < chunk_len(d, chunk)) {
            /* copy on write: the rest of the chunk keeps the container's bytes */
            const uint8_t *src = container_chunk(d, chunk);

            if (src == NULL)
                return DEV_EIO;
            if (pwrite_full(d->fd, src, chunk_len(d, chunk), chunk * d->chunk_bytes) != 0)
                goto io_error;
        }
        if (pwrite_full(d->fd, buf, n, off) != 0)
            goto io_error;
        bit_set(d->local, chunk);
        if (!bit_get(d->dirty, chunk)) {
            bit_set(d->dirty, chunk);
            d->ndirty++;
        }
        if (d->cache_chunk == chunk)
            d->cache_chunk = UINT64_MAX;
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
io_error:
    db_fail(d, "working file: write at %llu: %s", (unsigned long long)off, strerror(errno));
    return DEV_EIO;
}

static int be_read(void *opaque, uint64_t sector, uint32_t count, void *buf)
{
    struct diskback *d = opaque;

    return db_read_bytes(d, sector * BLK_SECTOR_BYTES, (size_t)count * BLK_SECTOR_BYTES, buf);
}

static int be_write(void *opaque, uint64_t sector, uint32_t count, const void *buf)
{
    struct diskback *d = opaque;

    if (d->be.read_only)
        return DEV_EIO;
    return db_write_bytes(d, sector * BLK_SECTOR_BYTES, (size_t)count * BLK_SECTOR_BYTES, buf);
}

static int be_flush(void *opaque)
{
    struct diskback *d = opaque;

    /* The working file is scratch space until suspend copies the dirty
     * chunks out, so a flush need not reach the platter: it only has to
     * order writes, which pwrite on one fd already does. */
    (void)d;
    return 0;
}

int diskback_open(vmp_reader *r, unsigned image, const char *dir, struct diskback **out, char *err,
                  size_t errlen)
{
    struct vmp_image_info info;
    struct diskback *d = NULL;
    char path[4096];
    uint64_t words;
    int rc;

    *out = NULL;
    rc = vmp_reader_image_info(r, image, &info);
    if (rc != 0) {
        snprintf(err, errlen, "image %u: %s", image, vmp_reader_errmsg(r));
        return rc;
    }
    if (info.kind != VMP_IMAGE_DISK || info.chunk_bytes == 0) {
        snprintf(err, errlen, "image %s: not a disk image", info.name);
        return VMP_ERR_INVALID;
    }
    d = calloc(1, sizeof *d);
    if (d == NULL)
        goto nomem;
    d->fd = -1;
    d->reader = r;
    d->image = image;
    d->size_bytes = info.size_bytes;
    d->chunk_bytes = info.chunk_bytes;
    d->nchunks = info.nchunks;
    d->cache_chunk = UINT64_MAX;
    words = (d->nchunks + 63) / 64 + 1;
    d->local = calloc(words, sizeof *d->local);
    d->dirty = calloc(words, sizeof *d->dirty);
    d->cache = malloc(d->chunk_bytes);
    if (d->local == NULL || d->dirty == NULL || d->cache == NULL)
        goto nomem;
    snprintf(path, sizeof path, "%s/vmpack-disk-XXXXXX", dir ? dir : "/var/tmp");
    d->fd = mkstemp(path);
    if (d->fd < 0) {
        snprintf(err, errlen, "%s: cannot create the disk's working file: %s", path,
                 strerror(errno));
        diskback_close(d);
        return VMP_ERR_IO;
    }
    unlink(path);
    if (ftruncate(d->fd, (off_t)d->size_bytes) != 0) {
        snprintf(err, errlen, "working file of %s: %s", info.name, strerror(errno));
        diskback_close(d);
        return VMP_ERR_IO;
    }
    d->be.read = be_read;
    d->be.write = be_write;
    d->be.flush = be_flush;
    d->be.opaque = d;
    d->be.sectors = d->size_bytes / BLK_SECTOR_BYTES;
    d->be.read_only = (info.flags & VMP_IMAGE_READ_ONLY) != 0;
    *out = d;
    return 0;
nomem:
    diskback_close(d);
    snprintf(err, errlen, "image %s: out of memory", info.name);
    return VMP_ERR_NOMEM;
}

void diskback_close(struct diskback *d)
{
    if (d == NULL)
        return;
    if (d->fd >= 0)
        close(d->fd);
    free(d->local);
    free(d->dirty);
    free(d->cache);
    free(d);
}

const struct blk_backend *diskback_backend(struct diskback *d)
{
    return &d->be;
}

uint32_t diskback_chunk_bytes(const struct diskback *d)
{
    return d->chunk_bytes;
}

uint64_t diskback_chunks(const struct diskback *d)
{
    return d->nchunks;
}

uint64_t diskback_dirty_count(const struct diskback *d)
{
    return d->ndirty;
}

int diskback_dirty_next(const struct diskback *d, uint64_t from, uint64_t *chunk)
{
    uint64_t i;

    for (i = from; i < d->nchunks; i++) {
        if (d->dirty[i / 64] == 0 && i % 64 == 0) {
            i += 63;
            continue;
        }
        if (bit_get(d->dirty, i)) {
            *chunk = i;
            return 1;
        }
    }
    return 0;
}

int diskback_read_chunk(struct diskback *d, uint64_t chunk, void *buf, size_t buflen, size_t *len)
{
    uint32_t n;

    if (chunk >= d->nchunks)
        return VMP_ERR_INVALID;
    n = chunk_len(d, chunk);
    if (buflen < n)
        return VMP_ERR_INVALID;
    if (db_read_bytes(d, chunk * d->chunk_bytes, n, buf) != 0)
        return VMP_ERR_IO;
    if (len != NULL)
        *len = n;
    return 0;
}

const char *diskback_errmsg(const struct diskback *d)
{
    return d->errmsg;
}
