/*
 * diskback.h - a block backend (vmm/dev/blkback.h) over one disk image of
 * an open container, with copy-on-write to a local working file.
 *
 * Lifecycle:
 *   1. diskback_open(reader, image, dir, &d, err, errlen): a sparse working
 *      file, created in dir (NULL: $TMPDIR-free default /var/tmp) and
 *      unlinked at once, so it disappears with the process.
 *   2. diskback_backend(d) for virtio_blk_create().
 *   3. Reads of a chunk never written come from the container on demand
 *      (vmp_reader_read_chunk: digest-checked, decompressed), through a
 *      one-chunk cache. The first write to a chunk copies it into the
 *      working file (unless the write covers it whole) and marks it dirty.
 *   4. The suspend path: diskback_dirty_count / diskback_dirty_next list the
 *      chunks written since open, diskback_read_chunk reads one chunk's
 *      current bytes.
 *   5. diskback_close(d); NULL does nothing.
 * The container reader must outlive d. Not thread-safe: the board calls it
 * under its device lock (dev.h).
 */
#ifndef VMP_DISKBACK_H
#define VMP_DISKBACK_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/reader.h>

#include "dev/blkback.h"

struct diskback;

/* 0, or a negative vmp_status with a message in err. */
int diskback_open(vmp_reader *r, unsigned image, const char *dir, struct diskback **out, char *err,
                  size_t errlen);
void diskback_close(struct diskback *d);
const struct blk_backend *diskback_backend(struct diskback *d);

uint32_t diskback_chunk_bytes(const struct diskback *d);
uint64_t diskback_chunks(const struct diskback *d);
uint64_t diskback_dirty_count(const struct diskback *d);
/* The first dirty chunk >= from in *chunk: 1, or 0 if there is none. */
int diskback_dirty_next(const struct diskback *d, uint64_t from, uint64_t *chunk);
/* The current bytes of chunk (its size: chunk_bytes, less for the last
 * chunk, in *len). 0 or a negative vmp_status. */
int diskback_read_chunk(struct diskback *d, uint64_t chunk, void *buf, size_t buflen, size_t *len);
/* The last error message (a failed read or write of the guest's request). */
const char *diskback_errmsg(const struct diskback *d);

#endif
