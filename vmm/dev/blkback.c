/*
 * blkback.c - memory and raw-file block backends (blkback.h).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkback.h"

struct blk_mem {
    struct blk_backend be;
    uint8_t *data;
};

static int blk_mem_read(void *opaque, uint64_t sector, uint32_t count, void *buf)
{
    struct blk_mem *m = opaque;
    if (sector > m->be.sectors || count > m->be.sectors - sector)
        return DEV_EINVAL;
    memcpy(buf, m->data + sector * BLK_SECTOR_BYTES, (size_t)count * BLK_SECTOR_BYTES);
    return 0;
}

static int blk_mem_write(void *opaque, uint64_t sector, uint32_t count, const void *buf)
{
    struct blk_mem *m = opaque;
    if (m->be.read_only || sector > m->be.sectors || count > m->be.sectors - sector)
        return DEV_EINVAL;
    memcpy(m->data + sector * BLK_SECTOR_BYTES, buf, (size_t)count * BLK_SECTOR_BYTES);
    return 0;
}

static int blk_mem_flush(void *opaque)
{
    (void)opaque;
    return 0;
}

struct blk_mem *blk_mem_create(uint64_t sectors)
{
    if (sectors == 0 || sectors > SIZE_MAX / BLK_SECTOR_BYTES)
        return NULL;
    struct blk_mem *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->data = calloc((size_t)sectors, BLK_SECTOR_BYTES);
    if (!m->data) {
        free(m);
        return NULL;
    }
    m->be = (struct blk_backend){blk_mem_read, blk_mem_write, blk_mem_flush, m, sectors, 0};
    return m;
}

void blk_mem_destroy(struct blk_mem *m)
{
    if (!m)
        return;
    free(m->data);
    free(m);
}

const struct blk_backend *blk_mem_backend(struct blk_mem *m)
{
    return &m->be;
}

uint8_t *blk_mem_data(struct blk_mem *m)
{
    return m->data;
}

struct blk_file {
    struct blk_backend be;
    int fd;
};

static int blk_file_io(struct blk_file *f, uint64_t sector, uint32_t count, void *buf, int write)
{
    if (sector > f->be.sectors || count > f->be.sectors - sector)
        return DEV_EINVAL;
    uint8_t *p = buf;
    size_t left = (size_t)count * BLK_SECTOR_BYTES;
    off_t off = (off_t)(sector * BLK_SECTOR_BYTES);
    while (left) {
        ssize_t n = write ? pwrite(f->fd, p, left, off) : pread(f->fd, p, left, off);
        if (n <= 0)
            return DEV_EIO;
        p += n;
        off += n;
        left -= (size_t)n;
    }
    return 0;
}

static int blk_file_read(void *opaque, uint64_t sector, uint32_t count, void *buf)
{
    return blk_file_io(opaque, sector, count, buf, 0);
}

static int blk_file_write(void *opaque, uint64_t sector, uint32_t count, const void *buf)
{
    struct blk_file *f = opaque;
    if (f->be.read_only)
        return DEV_EINVAL;
    return blk_file_io(f, sector, count, (void *)(uintptr_t)buf, 1);
}

static int blk_file_flush(void *opaque)
{
    struct blk_file *f = opaque;
    return fdatasync(f->fd) ? DEV_EIO : 0;
}

struct blk_file *blk_file_open(const char *path, int read_only)
{
    struct blk_file *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    struct stat st;
    if (f->fd < 0 || fstat(f->fd, &st) || st.st_size < (off_t)BLK_SECTOR_BYTES) {
        if (f->fd >= 0)
            close(f->fd);
        free(f);
        return NULL;
    }
    f->be = (struct blk_backend){
        blk_file_read, blk_file_write, blk_file_flush, f, (uint64_t)st.st_size / BLK_SECTOR_BYTES,
        read_only != 0};
    return f;
}

void blk_file_close(struct blk_file *f)
{
    if (!f)
        return;
    close(f->fd);
    free(f);
}

const struct blk_backend *blk_file_backend(struct blk_file *f)
{
    return &f->be;
}
