/*
 * snapshot.c - a stopped VM's state to a suspended container and back
 * (spec/snapshot.md). Every chunk goes one of three ways: all zero (not
 * stored), unchanged since the source container (its blob copied by
 * digest, never recompressed), or stored anew. Memory: one chunk buffer.
 */
#define _GNU_SOURCE
#include "snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vmpack/x86section.h>

#include "diskback.h"

#define SNAP_RAM_IMAGE "ram"

static int snap_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int snap_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static double snap_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int snap_all_zero(const uint8_t *p, size_t len)
{
    static const uint8_t zero[256];

    while (len >= sizeof zero) {
        if (memcmp(p, zero, sizeof zero) != 0)
            return 0;
        p += sizeof zero;
        len -= sizeof zero;
    }
    return memcmp(p, zero, len) == 0;
}

static int snap_db_next(void *ctx, uint64_t from, uint64_t *chunk)
{
    return diskback_dirty_next(ctx, from, chunk);
}

static int snap_db_read(void *ctx, uint64_t chunk, void *buf, size_t buflen, size_t *len)
{
    return diskback_read_chunk(ctx, chunk, buf, buflen, len);
}

void snapshot_disk_diskback(struct snapshot_disk *dk, struct diskback *d, unsigned src_image)
{
    dk->src_image = src_image;
    dk->dirty_next = snap_db_next;
    dk->read_chunk = snap_db_read;
    dk->ctx = d;
}

struct snap_ctx {
    const struct snapshot_in *in;
    vmp_writer *w;
    struct snapshot_stats *st;
    uint8_t *buf;
    size_t buflen;
    uint64_t done_bytes, total_bytes;
    char *err;
    size_t errlen;
};

static int snap_progress(struct snap_ctx *c, uint64_t bytes)
{
    c->done_bytes += bytes;
    if (c->in->progress != NULL &&
        c->in->progress(c->in->progress_ctx, c->done_bytes, c->total_bytes) != 0)
        return snap_fail(c->err, c->errlen, VMP_ERR_CALLBACK,
                         "aborted by the progress callback "
                         "after %llu of %llu bytes",
                         (unsigned long long)c->done_bytes, (unsigned long long)c->total_bytes);
    return 0;
}

static int snap_werr(struct snap_ctx *c, int rc, const char *what)
{
    return snap_fail(c->err, c->errlen, rc, "%s: %s", what, vmp_writer_errmsg(c->w));
}

/*
 * One chunk's current bytes (c->buf, len): zero, the same as chunk
 * src_chunk of the source image (by uncompressed digest: copied), or new.
 * src_image < 0: no source to copy from.
 */
static int snap_put(struct snap_ctx *c, unsigned image_id, uint64_t chunk, size_t len,
                    int src_image, int is_ram)
{
    struct vmp_chunk_info ci;
    uint8_t d[VMP_DIGEST_BYTES];
    int rc;

    if (snap_all_zero(c->buf, len)) {
        /* A chunk never given is a zero chunk (writer.h); a dirty disk chunk
         * may replace a copied one, so say it explicitly. */
        rc = vmp_writer_image_put_chunk(c->w, image_id, chunk, c->buf, len);
        if (rc != 0)
            return snap_werr(c, rc, "zero chunk");
        c->st->chunks_zero++;
        c->st->ram_zero += is_ram;
        return 0;
    }
    if (src_image >= 0 && vmp_reader_chunk_info(c->in->src, (unsigned)src_image, chunk, &ci) == 0 &&
        !ci.zero && ci.size_bytes == len) {
        vmp_sha256(c->buf, len, d);
        if (memcmp(d, ci.udigest, sizeof d) == 0) {
            rc = vmp_writer_image_copy_chunk(c->w, image_id, chunk, c->in->src, (unsigned)src_image,
                                             chunk);
            if (rc != 0)
                return snap_werr(c, rc, "copy chunk");
            c->st->chunks_copied++;
            c->st->ram_copied += is_ram;
            return 0;
        }
    }
    rc = vmp_writer_image_put_chunk(c->w, image_id, chunk, c->buf, len);
    if (rc != 0)
        return snap_werr(c, rc, "chunk");
    c->st->chunks_new++;
    c->st->ram_new += is_ram;
    c->st->bytes_new += len;
    return 0;
}

/* A disk: every stored chunk of the source not dirty is copied by digest;
 * the dirty ones are read from the working file. */
static int snap_disk(struct snap_ctx *c, const struct snapshot_disk *dk)
{
    struct vmp_image_info info;
    struct vmp_image_desc desc;
    struct vmp_chunk_info ci;
    uint64_t chunk, next_dirty = UINT64_MAX;
    unsigned id;
    size_t len;
    int rc, have_dirty;

    rc = vmp_reader_image_info(c->in->src, dk->src_image, &info);
    if (rc != 0)
        return snap_fail(c->err, c->errlen, rc, "disk image %u: %s", dk->src_image,
                         vmp_reader_errmsg(c->in->src));
    if (info.chunk_bytes > c->buflen)
        return snap_fail(c->err, c->errlen, VMP_ERR_LIMIT, "disk %s: chunk of %u bytes", info.name,
                         info.chunk_bytes);
    memset(&desc, 0, sizeof desc);
    desc.name = info.name;
    desc.kind = info.kind;
    desc.flags = info.flags;
    desc.size_bytes = info.size_bytes;
    desc.chunk_bytes = info.chunk_bytes;
    rc = vmp_writer_image_begin(c->w, &desc, &id);
    if (rc != 0)
        return snap_werr(c, rc, info.name);
    have_dirty = dk->dirty_next != NULL && dk->dirty_next(dk->ctx, 0, &next_dirty) == 1;
    if (!have_dirty)
        next_dirty = UINT64_MAX;
    for (chunk = 0; chunk < info.nchunks; chunk++) {
        if (chunk == next_dirty) {
            len = 0;
            if (dk->read_chunk == NULL ||
                dk->read_chunk(dk->ctx, chunk, c->buf, c->buflen, &len) != 0)
                return snap_fail(c->err, c->errlen, VMP_ERR_CALLBACK,
                                 "disk %s: reading dirty chunk %llu failed", info.name,
                                 (unsigned long long)chunk);
            if (len != (chunk + 1 == info.nchunks ? info.size_bytes - chunk * info.chunk_bytes
                                                  : info.chunk_bytes))
                return snap_fail(c->err, c->errlen, VMP_ERR_INVALID,
                                 "disk %s: dirty chunk %llu has %zu bytes", info.name,
                                 (unsigned long long)chunk, len);
            rc = snap_put(c, id, chunk, len, (int)dk->src_image, 0);
            if (rc != 0)
                return rc;
            if (dk->dirty_next(dk->ctx, chunk + 1, &next_dirty) != 1)
                next_dirty = UINT64_MAX;
            else if (next_dirty <= chunk)
                return snap_fail(c->err, c->errlen, VMP_ERR_INVALID,
                                 "disk %s: dirty chunks out of order at %llu", info.name,
                                 (unsigned long long)chunk);
        } else {
            rc = vmp_reader_chunk_info(c->in->src, dk->src_image, chunk, &ci);
            if (rc != 0)
                return snap_fail(c->err, c->errlen, rc, "disk %s chunk %llu: %s", info.name,
                                 (unsigned long long)chunk, vmp_reader_errmsg(c->in->src));
            len = ci.size_bytes;
            if (ci.zero) {
                c->st->chunks_zero++;
            } else {
                rc = vmp_writer_image_copy_chunk(c->w, id, chunk, c->in->src, dk->src_image, chunk);
                if (rc != 0)
                    return snap_werr(c, rc, info.name);
                c->st->chunks_copied++;
            }
        }
        rc = snap_progress(c, len);
        if (rc != 0)
            return rc;
    }
    rc = vmp_writer_image_end(c->w, id);
    return rc != 0 ? snap_werr(c, rc, info.name) : 0;
}

/* Guest RAM from the memfd, mapped read-only (the VM is stopped), in
 * batches the writer prepares on its threads (vmp_writer_image_put_chunks);
 * a chunk equal to the source's RAM chunk (when the source is suspended
 * too) is copied by digest instead. */
#define SNAP_BATCH_BYTES (8u << 20)

/* Whether bytes off..off+len of fd are all in a hole (SEEK_DATA finds no
 * data before their end); no when the file system cannot say. */
static int snap_hole(int fd, uint64_t off, size_t len)
{
    off_t data = lseek(fd, (off_t)off, SEEK_DATA);

    if (data < 0)
        return errno == ENXIO;
    return (uint64_t)data >= off + len;
}

static int snap_ram(struct snap_ctx *c, uint32_t chunk_bytes, int src_ram)
{
    const struct snapshot_in *in = c->in;
    struct vmp_image_desc desc;
    struct vmp_chunk_put put[256];
    struct vmp_chunk_info ci[256];
    uint64_t chunk, nchunks, off;
    const uint8_t *ram;
    uint8_t *zeros;
    unsigned id;
    size_t k, n, batch, len;
    int rc;

    memset(&desc, 0, sizeof desc);
    desc.name = SNAP_RAM_IMAGE;
    desc.kind = VMP_IMAGE_RAM;
    desc.size_bytes = in->ram_bytes;
    desc.chunk_bytes = chunk_bytes;
    rc = vmp_writer_image_begin(c->w, &desc, &id);
    if (rc != 0)
        return snap_werr(c, rc, "ram");
    if (in->ram_bytes == 0)
        goto end;
    ram = mmap(NULL, in->ram_bytes, PROT_READ, MAP_SHARED, in->ram_fd, 0);
    if (ram == MAP_FAILED)
        return snap_fail(c->err, c->errlen, VMP_ERR_IO, "ram: mmap of %llu bytes: %s",
                         (unsigned long long)in->ram_bytes, strerror(errno));
    zeros = calloc(1, chunk_bytes);
    if (zeros == NULL) {
        munmap((void *)ram, in->ram_bytes);
        return snap_fail(c->err, c->errlen, VMP_ERR_NOMEM, "ram: out of memory");
    }
    batch = SNAP_BATCH_BYTES / chunk_bytes;
    if (batch < 8)
        batch = 8;
    if (batch > 256)
        batch = 256;
    nchunks = (in->ram_bytes + chunk_bytes - 1) / chunk_bytes;
    for (chunk = 0; chunk < nchunks && rc == 0; chunk += n) {
        n = nchunks - chunk < batch ? (size_t)(nchunks - chunk) : batch;
        for (k = 0; k < n; k++) {
            off = (chunk + k) * chunk_bytes;
            len = in->ram_bytes - off < chunk_bytes ? (size_t)(in->ram_bytes - off) : chunk_bytes;
            put[k] = (struct vmp_chunk_put){.index = chunk + k, .data = ram + off, .len = len};
            /* A chunk all in a hole of the memfd is read from zeros: a read
             * fault there would give the memfd a page (pread does not). */
            if (snap_hole(in->ram_fd, off, len))
                put[k].data = zeros;
            if (src_ram >= 0 &&
                vmp_reader_chunk_info(in->src, (unsigned)src_ram, chunk + k, &ci[k]) == 0 &&
                !ci[k].zero && ci[k].size_bytes == len)
                put[k].skip_udigest = ci[k].udigest;
        }
        rc = vmp_writer_image_put_chunks(c->w, id, put, n);
        if (rc != 0) {
            rc = snap_werr(c, rc, "ram chunks");
            break;
        }
        for (k = 0; k < n && rc == 0; k++) {
            switch (put[k].outcome) {
            case VMP_PUT_ZERO:
                c->st->chunks_zero++;
                c->st->ram_zero++;
                break;
            case VMP_PUT_SKIPPED:
                rc = vmp_writer_image_copy_chunk(c->w, id, chunk + k, in->src, (unsigned)src_ram,
                                                 chunk + k);
                if (rc != 0) {
                    rc = snap_werr(c, rc, "copy chunk");
                    break;
                }
                c->st->chunks_copied++;
                c->st->ram_copied++;
                break;
            default:
                c->st->chunks_new++;
                c->st->ram_new++;
                c->st->bytes_new += put[k].len;
                break;
            }
            if (rc == 0)
                rc = snap_progress(c, put[k].len);
        }
    }
    munmap((void *)ram, in->ram_bytes);
    free(zeros);
    if (rc != 0)
        return rc;
end:
    rc = vmp_writer_image_end(c->w, id);
    return rc != 0 ? snap_werr(c, rc, "ram") : 0;
}

/* The source's kernel and initrd come along, so the suspended container
 * can still boot afresh. */
static int snap_boot(struct snap_ctx *c)
{
    void *data = NULL;
    size_t len = 0;
    uint64_t size;
    uint8_t d[VMP_DIGEST_BYTES];
    int which, present, rc = 0;

    for (which = VMP_BOOT_KERNEL; which <= VMP_BOOT_INITRD && rc == 0; which++) {
        if (vmp_reader_boot_info(c->in->src, which, &present, &size, d) != 0 || !present)
            continue;
        rc = vmp_reader_boot_read(c->in->src, which, &data, &len);
        if (rc != 0)
            return snap_fail(c->err, c->errlen, rc, "%s: %s",
                             which == VMP_BOOT_KERNEL ? "kernel" : "initrd",
                             vmp_reader_errmsg(c->in->src));
        rc = which == VMP_BOOT_KERNEL ? vmp_writer_set_kernel_mem(c->w, data, len)
                                      : vmp_writer_set_initrd_mem(c->w, data, len);
        free(data);
        if (rc != 0)
            rc = snap_werr(c, rc, which == VMP_BOOT_KERNEL ? "kernel" : "initrd");
    }
    return rc;
}

int snapshot_save(const struct snapshot_in *in, const char *path, struct snapshot_stats *stats,
                  char *err, size_t errlen)
{
    struct snapshot_stats local;
    struct snap_ctx c;
    struct vmp_config *cfg = NULL;
    struct vmp_image_info info;
    uint8_t cpu_buf[VMP_X86_SECTION_V1_BYTES];
    uint32_t chunk_bytes, max_chunk = 0;
    unsigned i, ram_src_id;
    int src_ram = -1, rc;
    size_t cpu_len;
    struct stat sb;
    double t0 = snap_now();

    if (stats == NULL)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    memset(&c, 0, sizeof c);
    c.in = in;
    c.st = stats;
    c.err = err;
    c.errlen = errlen;
    if (in == NULL || in->config == NULL || in->cpu == NULL || path == NULL || in->ram_fd < 0 ||
        in->ram_bytes != in->config->mem_bytes || in->ndisks > SNAPSHOT_MAX_DISKS ||
        (in->ndisks > 0 && (in->src == NULL || in->disks == NULL)) ||
        (in->nsections > 0 && in->sections == NULL))
        return snap_fail(err, errlen, VMP_ERR_INVALID, "snapshot: missing or inconsistent input");

    /* The source's RAM image, if it is one we can copy chunks from. */
    chunk_bytes = in->ram_chunk_bytes;
    if (in->src != NULL && vmp_reader_image_find(in->src, SNAP_RAM_IMAGE, &ram_src_id) == 0 &&
        vmp_reader_image_info(in->src, ram_src_id, &info) == 0 && info.kind == VMP_IMAGE_RAM &&
        info.size_bytes == in->ram_bytes && (chunk_bytes == 0 || chunk_bytes == info.chunk_bytes)) {
        chunk_bytes = info.chunk_bytes;
        src_ram = (int)ram_src_id;
    }
    if (chunk_bytes == 0)
        chunk_bytes = VMP_RAM_CHUNK_DEFAULT;
    max_chunk = chunk_bytes;
    c.total_bytes = in->ram_bytes;
    for (i = 0; i < in->ndisks; i++) {
        rc = vmp_reader_image_info(in->src, in->disks[i].src_image, &info);
        if (rc != 0)
            return snap_fail(err, errlen, rc, "disk image %u: %s", in->disks[i].src_image,
                             vmp_reader_errmsg(in->src));
        if (info.chunk_bytes > max_chunk)
            max_chunk = info.chunk_bytes;
        c.total_bytes += info.size_bytes;
    }
    if (max_chunk > VMP_CHUNK_MAX)
        return snap_fail(err, errlen, VMP_ERR_LIMIT, "chunk of %u bytes", max_chunk);
    c.buflen = max_chunk;
    c.buf = malloc(c.buflen);
    cfg = malloc(sizeof *cfg);
    if (c.buf == NULL || cfg == NULL) {
        rc = snap_fail(err, errlen, VMP_ERR_NOMEM, "snapshot: out of memory");
        goto out;
    }
    *cfg = *in->config;
    cfg->power = VMP_POWER_SUSPENDED;

    rc = vmp_writer_create(&c.w);
    if (rc != 0) {
        rc = snap_fail(err, errlen, rc, "snapshot: out of memory");
        goto out;
    }
    if ((rc = vmp_writer_open(c.w, path)) != 0 || (rc = vmp_writer_set_config(c.w, cfg)) != 0) {
        rc = snap_werr(&c, rc, path);
        goto out;
    }
    if (in->src != NULL && (rc = snap_boot(&c)) != 0)
        goto out;
    /* spec/snapshot.md 2: disks in the order given, then RAM, then the CPU,
     * then the devices. */
    for (i = 0; i < in->ndisks; i++)
        if ((rc = snap_disk(&c, &in->disks[i])) != 0)
            goto out;
    if ((rc = snap_ram(&c, chunk_bytes, src_ram)) != 0)
        goto out;
    rc = vmp_x86_state_encode(in->cpu, cpu_buf, sizeof cpu_buf, &cpu_len);
    if (rc != 0) {
        rc = snap_fail(err, errlen, rc, "x86-cpu: cannot encode");
        goto out;
    }
    rc = vmp_writer_add_section(c.w, VMP_X86_SECTION_ID, VMP_X86_SECTION_VERSION,
                                VMP_SECTION_REQUIRED, cpu_buf, cpu_len);
    if (rc != 0) {
        rc = snap_werr(&c, rc, VMP_X86_SECTION_ID);
        goto out;
    }
    for (i = 0; i < in->nsections; i++) {
        const struct snapshot_section *s = &in->sections[i];

        rc = vmp_writer_add_section(c.w, s->id, s->version, s->flags, s->data, s->len);
        if (rc != 0) {
            rc = snap_werr(&c, rc, s->id != NULL ? s->id : "section");
            goto out;
        }
    }
    rc = vmp_writer_commit(c.w, NULL);
    if (rc != 0) {
        rc = snap_werr(&c, rc, path);
        goto out;
    }
    if (stat(path, &sb) == 0)
        stats->file_bytes = (uint64_t)sb.st_size;
out:
    /* Before commit, destroy removes the temporary file: path is untouched. */
    vmp_writer_destroy(c.w);
    free(c.buf);
    free(cfg);
    stats->seconds = snap_now() - t0;
    return rc;
}

/* RAM chunks read (digests checked, decompressed) straight into the
 * mapping by up to SNAP_LOAD_THREADS threads (vmp_reader_read_chunk is
 * thread-safe), each taking the next chunk not yet taken. */
#define SNAP_LOAD_THREADS 4

struct snap_load {
    vmp_reader *r;
    unsigned image;
    uint64_t nchunks, chunk_bytes, ram_bytes;
    uint8_t *ram;
    _Atomic uint64_t next;
    _Atomic uint64_t first_bad; /* lowest chunk that failed, or UINT64_MAX */
};

static void *snap_load_run(void *arg)
{
    struct snap_load *l = arg;
    struct vmp_chunk_info ci;
    uint64_t chunk, bad;
    size_t len;

    while ((chunk = atomic_fetch_add(&l->next, 1)) < l->nchunks) {
        uint64_t off = chunk * l->chunk_bytes;

        if (chunk > atomic_load(&l->first_bad))
            break;
        if (vmp_reader_chunk_info(l->r, l->image, chunk, &ci) == 0 && ci.zero)
            continue; /* a hole of the memfd: zero already */
        if (vmp_reader_read_chunk(l->r, l->image, chunk, l->ram + off, l->ram_bytes - off, &len) ==
            0)
            continue;
        bad = atomic_load(&l->first_bad);
        while (chunk < bad && !atomic_compare_exchange_weak(&l->first_bad, &bad, chunk))
            ;
    }
    return NULL;
}

static int snap_load_ram(vmp_reader *r, struct snapshot_state *st, struct snapshot_stats *stats,
                         char *err, size_t errlen)
{
    struct vmp_image_info info;
    struct vmp_chunk_info ci;
    struct snap_load l;
    pthread_t tid[SNAP_LOAD_THREADS];
    unsigned image, t, nt, started;
    uint64_t chunk;
    uint8_t *ram;
    size_t len;
    long cpus;
    int rc = 0;

    rc = vmp_reader_image_find(r, SNAP_RAM_IMAGE, &image);
    if (rc == 0)
        rc = vmp_reader_image_info(r, image, &info);
    if (rc != 0)
        return snap_fail(err, errlen, rc, "ram image: %s", vmp_reader_errmsg(r));
    if (info.kind != VMP_IMAGE_RAM || info.size_bytes != st->ram_bytes)
        return snap_fail(err, errlen, VMP_ERR_FORMAT, "ram image: %llu bytes, config says %llu",
                         (unsigned long long)info.size_bytes, (unsigned long long)st->ram_bytes);
    st->ram_fd = memfd_create("vmpack-ram", MFD_CLOEXEC);
    if (st->ram_fd < 0)
        return snap_fail(err, errlen, VMP_ERR_IO, "memfd_create: %s", strerror(errno));
    if (ftruncate(st->ram_fd, (off_t)st->ram_bytes) != 0)
        return snap_fail(err, errlen, VMP_ERR_IO, "ram: ftruncate to %llu bytes: %s",
                         (unsigned long long)st->ram_bytes, strerror(errno));
    /* Decompressed straight into the mapping: no bounce buffer. Zero
     * chunks stay holes of the memfd. */
    ram = mmap(NULL, st->ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, st->ram_fd, 0);
    if (ram == MAP_FAILED)
        return snap_fail(err, errlen, VMP_ERR_IO, "ram: mmap: %s", strerror(errno));
    memset(&l, 0, sizeof l);
    l.r = r;
    l.image = image;
    l.nchunks = info.nchunks;
    l.chunk_bytes = info.chunk_bytes;
    l.ram_bytes = st->ram_bytes;
    l.ram = ram;
    atomic_init(&l.next, 0);
    atomic_init(&l.first_bad, UINT64_MAX);
    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    nt = cpus < 1 ? 1 : cpus > SNAP_LOAD_THREADS ? SNAP_LOAD_THREADS : (unsigned)cpus;
    for (started = 1; started < nt; started++)
        if (pthread_create(&tid[started], NULL, snap_load_run, &l) != 0)
            break;
    snap_load_run(&l);
    for (t = 1; t < started; t++)
        pthread_join(tid[t], NULL);
    if (atomic_load(&l.first_bad) != UINT64_MAX) {
        /* The lowest failing chunk again, alone: its own message. */
        chunk = atomic_load(&l.first_bad);
        rc = vmp_reader_read_chunk(r, image, chunk, ram + chunk * info.chunk_bytes,
                                   st->ram_bytes - chunk * info.chunk_bytes, &len);
        if (rc == 0)
            rc = VMP_ERR_IO;
        snap_fail(err, errlen, rc, "ram chunk %llu: %s", (unsigned long long)chunk,
                  vmp_reader_errmsg(r));
    }
    for (chunk = 0; chunk < info.nchunks && rc == 0; chunk++) {
        rc = vmp_reader_chunk_info(r, image, chunk, &ci);
        if (rc != 0) {
            snap_fail(err, errlen, rc, "ram chunk %llu: %s", (unsigned long long)chunk,
                      vmp_reader_errmsg(r));
            break;
        }
        if (ci.zero) {
            stats->chunks_zero++;
            stats->ram_zero++;
            continue;
        }
        stats->chunks_new++;
        stats->ram_new++;
        stats->bytes_new += ci.size_bytes;
    }
    munmap(ram, st->ram_bytes);
    return rc;
}

int snapshot_load(vmp_reader *r, struct snapshot_state *st, struct snapshot_stats *stats, char *err,
                  size_t errlen)
{
    const struct vmp_config *cfg;
    struct snapshot_stats local;
    struct vmp_section_info si;
    unsigned i, n;
    void *data = NULL;
    size_t len;
    int rc = 0;
    double t0 = snap_now();
    char cerr[256];

    if (stats == NULL)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    memset(st, 0, sizeof *st);
    st->ram_fd = -1;
    cfg = vmp_reader_config(r);
    if (cfg == NULL || cfg->power != VMP_POWER_SUSPENDED)
        return snap_fail(err, errlen, VMP_ERR_STATE, "the container is not suspended");
    st->ram_bytes = cfg->mem_bytes;
    n = vmp_reader_section_count(r);
    st->sections = calloc(n ? n : 1, sizeof *st->sections);
    if (st->sections == NULL)
        return snap_fail(err, errlen, VMP_ERR_NOMEM, "sections: out of memory");
    for (i = 0; i < n; i++) {
        if ((rc = vmp_reader_section_info(r, i, &si)) != 0 ||
            (rc = vmp_reader_section_read(r, i, &data, &len)) != 0)
            return snap_fail(err, errlen, rc, "section %u: %s", i, vmp_reader_errmsg(r));
        if (strcmp(si.id, VMP_X86_SECTION_ID) == 0) {
            rc = vmp_x86_state_decode(data, len, si.version, &st->cpu, cerr, sizeof cerr);
            free(data);
            if (rc != 0)
                return snap_fail(err, errlen, rc, "%s: %s", VMP_X86_SECTION_ID, cerr);
            continue;
        }
        struct snapshot_section *s = &st->sections[st->nsections];
        char *id = strdup(si.id);

        if (id == NULL) {
            free(data);
            return snap_fail(err, errlen, VMP_ERR_NOMEM, "sections: out of memory");
        }
        s->id = id;
        s->version = si.version;
        s->flags = si.flags;
        s->data = data;
        s->len = len;
        st->nsections++;
    }
    rc = snap_load_ram(r, st, stats, err, errlen);
    stats->seconds = snap_now() - t0;
    return rc;
}

void snapshot_state_free(struct snapshot_state *st)
{
    size_t i;

    if (st == NULL)
        return;
    for (i = 0; i < st->nsections; i++) {
        free((void *)st->sections[i].id);
        free((void *)st->sections[i].data);
    }
    free(st->sections);
    st->sections = NULL;
    st->nsections = 0;
    if (st->ram_fd >= 0)
        close(st->ram_fd);
    st->ram_fd = -1;
}

const struct snapshot_section *snapshot_state_section(const struct snapshot_state *st,
                                                      const char *id)
{
    size_t i;

    for (i = 0; i < st->nsections; i++)
        if (strcmp(st->sections[i].id, id) == 0)
            return &st->sections[i];
    return NULL;
}
