/*
 * vmpack/reader.h - open a container, query it, read chunks and sections,
 * verify it.
 *
 * Lifecycle:
 *   1. vmp_reader_create(&r);
 *   2. vmp_reader_open(r, path) or vmp_reader_open_fd(r, fd): reads the
 *      tar headers (an index of member offsets, no blob data), then
 *      index.json, the manifest, the config and every image's chunk index,
 *      each checked against its digest before it is parsed
 *      (spec/container.md 2-5). Untrusted input is refused with a message
 *      naming object, offset, expected and found; nothing is written;
 *   3. query: vmp_reader_config, vmp_reader_image_*, vmp_reader_section_*,
 *      vmp_reader_boot_*, vmp_reader_signature_*, vmp_reader_*stats;
 *   4. read: vmp_reader_read_chunk (random access, pread), vmp_reader_export_image,
 *      vmp_reader_section_read; verify: vmp_reader_verify;
 *   5. vmp_reader_destroy(r) (closes the file). destroy(NULL) does nothing.
 *
 * Errors: 0 or a negative vmp_status; message via vmp_reader_errmsg.
 * After a failed open, only vmp_reader_errmsg and vmp_reader_destroy are
 * meaningful.
 * Thread safety: after open returns, vmp_reader_read_chunk,
 * vmp_reader_chunk_info and the const queries may be called from several
 * threads at once (the VMM reads disk chunks from device threads and RAM
 * from the vCPU thread); everything else one thread at a time. When calls
 * fail concurrently, errmsg holds one of their messages.
 */
#ifndef VMPACK_READER_H
#define VMPACK_READER_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/container.h>
#include <vmpack/sign.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmp_reader vmp_reader;

int vmp_reader_create(vmp_reader **out);
void vmp_reader_destroy(vmp_reader *r);
const char *vmp_reader_errmsg(const vmp_reader *r);

/* Open by path, or an fd the reader dups (the caller keeps its own fd).
 * VMP_ERR_STATE if already open. Refusals: VMP_ERR_FORMAT, VMP_ERR_TRUNCATED,
 * VMP_ERR_DIGEST, VMP_ERR_VERSION (names both versions), VMP_ERR_LIMIT. */
int vmp_reader_open(vmp_reader *r, const char *path);
int vmp_reader_open_fd(vmp_reader *r, int fd);

/* Valid until destroy. */
const struct vmp_config *vmp_reader_config(const vmp_reader *r);

/* Manifest digest (what signatures sign). */
void vmp_reader_manifest_digest(const vmp_reader *r, uint8_t d[VMP_DIGEST_BYTES]);

/* Images, in config order. */
unsigned vmp_reader_image_count(const vmp_reader *r);
int vmp_reader_image_info(const vmp_reader *r, unsigned image, struct vmp_image_info *info);
/* VMP_ERR_NOT_FOUND if no image has that name. */
int vmp_reader_image_find(const vmp_reader *r, const char *name, unsigned *image);
int vmp_reader_image_stats(const vmp_reader *r, unsigned image, struct vmp_image_stats *st);

/* One chunk's index entry (zero chunks included). */
int vmp_reader_chunk_info(const vmp_reader *r, unsigned image, uint64_t chunk,
                          struct vmp_chunk_info *ci);

/* Reads chunk `chunk` uncompressed into buf (buflen >= its size; the size
 * is chunk_bytes except for the last chunk; *out_len gets it if not NULL).
 * Zero chunks are memset. The blob's digest is checked before it is
 * decompressed, and the result's size and digest after. Thread-safe. */
int vmp_reader_read_chunk(vmp_reader *r, unsigned image, uint64_t chunk, void *buf,
                          size_t buflen, size_t *out_len);

/* Streams a whole image to a callback, chunk after chunk (zero chunks as
 * zeros), or to fd (write(2); with VMP_EXPORT_SPARSE zero chunks are
 * skipped with lseek and the file is ftruncated to size, for regular
 * files). Memory: two chunks. */
typedef int (*vmp_chunk_sink_fn)(void *ctx, uint64_t offset_bytes, const void *data, size_t len);
int vmp_reader_export_image_cb(vmp_reader *r, unsigned image, vmp_chunk_sink_fn fn, void *ctx);
enum { VMP_EXPORT_SPARSE = 1u << 0 };
int vmp_reader_export_image_fd(vmp_reader *r, unsigned image, int fd, unsigned flags);

/* Sections, in container order. */
unsigned vmp_reader_section_count(const vmp_reader *r);
int vmp_reader_section_info(const vmp_reader *r, unsigned section, struct vmp_section_info *info);
int vmp_reader_section_find(const vmp_reader *r, const char *id, unsigned *section);
/* Reads a section's payload into a new buffer (*data, freed by the caller
 * with free()), digest checked. */
int vmp_reader_section_read(vmp_reader *r, unsigned section, void **data, size_t *len);

/*
 * Checks the sections against what a consumer understands
 * (spec/container.md 6.2): a required section whose id is not in sup, or
 * whose version exceeds max_version, is refused (VMP_ERR_UNSUPPORTED,
 * naming it); such an optional section is skipped and counted in
 * *skipped (if not NULL).
 */
int vmp_reader_sections_check(vmp_reader *r, const struct vmp_section_support *sup,
                              size_t nsup, unsigned *skipped);

/* Kernel and initrd (which: 0 kernel, 1 initrd). present: 0 if absent. */
enum { VMP_BOOT_KERNEL = 0, VMP_BOOT_INITRD = 1 };
int vmp_reader_boot_info(const vmp_reader *r, int which, int *present, uint64_t *size_bytes,
                         uint8_t digest[VMP_DIGEST_BYTES]);
/* Reads the whole blob into a new buffer (free() it), digest checked. */
int vmp_reader_boot_read(vmp_reader *r, int which, void **data, size_t *len);

/* Signatures found in index.json (spec/container.md 7). */
struct vmp_signature_info {
    char key_id[17];            /* 16 lowercase hex + NUL */
    struct vmp_public_key public_key;
    uint8_t digest[VMP_DIGEST_BYTES];   /* of the signature blob */
};
unsigned vmp_reader_signature_count(const vmp_reader *r);
int vmp_reader_signature_info(const vmp_reader *r, unsigned i, struct vmp_signature_info *si);

/* Whole-container statistics. */
int vmp_reader_stats(const vmp_reader *r, struct vmp_container_stats *st);

/*
 * Verifies every blob of the tar against its digest, every chunk's
 * decompressed size and digest, the section and boot blobs, that every
 * signature present verifies over the manifest digest (VMP_ERR_SIGNATURE
 * names the one that does not), and, if public_key is not NULL, that one
 * of them is by that key (VMP_ERR_NO_SIGNATURE otherwise). progress (may be NULL) is
 * called with bytes done and total; returning nonzero aborts
 * (VMP_ERR_CALLBACK).
 */
typedef int (*vmp_progress_fn)(void *ctx, uint64_t done, uint64_t total);
int vmp_reader_verify(vmp_reader *r, const struct vmp_public_key *public_key,
                      vmp_progress_fn progress, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
