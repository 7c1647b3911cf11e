/*
 * blkback.h - the block backend interface under virtio-blk, and two simple
 * backends (memory and file) for tests and raw images.
 *
 * The board implements struct blk_backend on top of the container's disk
 * chunks with copy-on-write; virtio-blk only calls these functions, on the
 * thread that writes QueueNotify, one request at a time. All offsets and
 * counts are in 512-byte sectors; virtio-blk checks every request against
 * `sectors` before calling read or write. Callbacks return 0 or a negative
 * DEV_E* code (the request then completes with VIRTIO_BLK_S_IOERR).
 */
#ifndef VMP_DEV_BLKBACK_H
#define VMP_DEV_BLKBACK_H

#include "dev.h"

#define BLK_SECTOR_BYTES 512u

struct blk_backend {
    int (*read)(void *opaque, uint64_t sector, uint32_t count, void *buf);
    int (*write)(void *opaque, uint64_t sector, uint32_t count, const void *buf);
    int (*flush)(void *opaque);
    void *opaque;
    uint64_t sectors; /* capacity */
    int read_only;    /* offered as VIRTIO_BLK_F_RO; writes fail */
};

/* A zero-filled disk in memory. blk_mem_data gives its bytes (tests). */
struct blk_mem;
struct blk_mem *blk_mem_create(uint64_t sectors);
void blk_mem_destroy(struct blk_mem *m);
const struct blk_backend *blk_mem_backend(struct blk_mem *m);
uint8_t *blk_mem_data(struct blk_mem *m);

/* A raw image file: pread/pwrite/fdatasync. The size is rounded down to
 * whole sectors. NULL if the file cannot be opened. */
struct blk_file;
struct blk_file *blk_file_open(const char *path, int read_only);
void blk_file_close(struct blk_file *f);
const struct blk_backend *blk_file_backend(struct blk_file *f);

#endif
