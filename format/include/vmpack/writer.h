/*
 * vmpack/writer.h - make a container.
 *
 * Lifecycle:
 *   1. vmp_writer_create(&w);
 *   2. vmp_writer_open(w, path): creates a temporary file next to path
 *      (spec/container.md 8); nothing at path changes until step 5;
 *   3. vmp_writer_set_config(w, &cfg); optionally vmp_writer_set_kernel_*,
 *      vmp_writer_set_initrd_*;
 *   4. any number of images and sections, in the order they should appear:
 *        vmp_writer_add_image_fd / vmp_writer_add_image_cb (whole images), or
 *        vmp_writer_image_begin, then vmp_writer_image_put_chunk and
 *        vmp_writer_image_copy_* in any chunk order, then
 *        vmp_writer_image_end;
 *        vmp_writer_add_section;
 *   5. vmp_writer_commit(w): writes config, manifest and index.json,
 *      fsyncs, renames over path, fsyncs the folder: path then holds
 *      either its old content or the complete new container;
 *   6. vmp_writer_destroy(w) (also after a failure: removes the temporary
 *      file if commit did not happen). destroy(NULL) does nothing.
 *
 * Memory: bounded by a batch of chunks in flight (about 8 MiB, or two
 * chunks per thread if larger) plus about 100 bytes per stored chunk of
 * the index; never the size of an image. vmp_writer_add_image_fd/_cb use
 * threads of their own (vmp_writer_set_threads) and join them before
 * returning.
 * Determinism: the same calls with the same bytes give a byte-identical
 * file (fixed zstd level, fixed tar metadata, no timestamps).
 * Errors: every call returns 0 or a negative vmp_status; the message is
 * kept on the handle (vmp_writer_errmsg). After a failure in steps 3-5
 * the writer is spent: only destroy is valid.
 * Thread safety: one thread at a time per writer.
 */
#ifndef VMPACK_WRITER_H
#define VMPACK_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/container.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmp_writer vmp_writer;
typedef struct vmp_reader vmp_reader;

/* 0 or VMP_ERR_NOMEM. *out is NULL on failure. */
int vmp_writer_create(vmp_writer **out);
void vmp_writer_destroy(vmp_writer *w);

/* The message of the last failure, "" if none. Valid until the next call. */
const char *vmp_writer_errmsg(const vmp_writer *w);

/* Starts a container that commit will place at path. VMP_ERR_IO if the
 * temporary file cannot be made, VMP_ERR_STATE if already open. */
int vmp_writer_open(vmp_writer *w, const char *path);

/* zstd level for chunks (default 3; 1..19). Part of the determinism:
 * changing it changes chunk digests. Call before adding images. */
int vmp_writer_set_level(vmp_writer *w, int level);

/* Threads that compress chunks in vmp_writer_add_image_fd/_cb (1..64;
 * default: online CPUs, at most 4). The file does not depend on it. */
int vmp_writer_set_threads(vmp_writer *w, unsigned n);

/* Copies the config (VMP_ERR_INVALID names the bad field). May be called
 * again before commit; the last one wins. */
int vmp_writer_set_config(vmp_writer *w, const struct vmp_config *cfg);

/* Kernel and initrd: raw blobs, from memory or read from fd until EOF
 * (at most VMP_BOOT_BLOB_MAX_BYTES). Each at most once. */
int vmp_writer_set_kernel_mem(vmp_writer *w, const void *data, size_t len);
int vmp_writer_set_kernel_fd(vmp_writer *w, int fd);
int vmp_writer_set_initrd_mem(vmp_writer *w, const void *data, size_t len);
int vmp_writer_set_initrd_fd(vmp_writer *w, int fd);

/* A whole image read sequentially from fd (read(2), so pipes work):
 * exactly d->size_bytes bytes; a short file is VMP_ERR_IO. */
int vmp_writer_add_image_fd(vmp_writer *w, const struct vmp_image_desc *d, int fd);

/* A whole image from a callback, chunk after chunk in order. The callback
 * fills buf with len bytes of chunk chunk_index (len is chunk_bytes, less
 * for the last chunk) and returns 0, or nonzero to abort
 * (VMP_ERR_CALLBACK). */
typedef int (*vmp_chunk_source_fn)(void *ctx, uint64_t chunk_index, void *buf, size_t len);
int vmp_writer_add_image_cb(vmp_writer *w, const struct vmp_image_desc *d,
                            vmp_chunk_source_fn fn, void *ctx);

/*
 * Chunk-level image writing, for the VMM's suspend: chunks may come in any
 * order; a chunk never given is a zero chunk.
 *   begin: *image_id is the writer's id for the image (0, 1, ...); only
 *          one image is open at a time.
 *   put_chunk: len must be the chunk's size (chunk_bytes, or the tail of
 *          the last chunk). All-zero data records a zero chunk. A chunk
 *          can be put once; putting a chunk already copied replaces the
 *          copy.
 *   copy_chunk: chunk dst_chunk takes the blob of src's chunk src_chunk of
 *          image src_image, copied by digest without recompressing (the
 *          blob's digest is checked as it is copied). Sizes must agree.
 *   copy_image: every chunk of src's image src_image (same chunk size,
 *          size at most this image's size), to be overridden by later
 *          put_chunk calls. Copies happen at image_end, so later overrides
 *          cost nothing; src must stay open until then.
 *   end:   writes the chunk index blob.
 */
int vmp_writer_image_begin(vmp_writer *w, const struct vmp_image_desc *d, unsigned *image_id);
int vmp_writer_image_put_chunk(vmp_writer *w, unsigned image_id, uint64_t chunk_index,
                               const void *data, size_t len);
int vmp_writer_image_copy_chunk(vmp_writer *w, unsigned image_id, uint64_t dst_chunk,
                                vmp_reader *src, unsigned src_image, uint64_t src_chunk);
int vmp_writer_image_copy_image(vmp_writer *w, unsigned image_id, vmp_reader *src,
                                unsigned src_image);
int vmp_writer_image_end(vmp_writer *w, unsigned image_id);

/*
 * put_chunks: several chunks of the open image at once (at most 256; the
 * image must be image_id's). Their zero test, digests and zstd frames are
 * made by the writer's threads (vmp_writer_set_threads, joined before
 * return); they are then recorded in the order given, so the file is the
 * one that put_chunk for each in turn makes, for any thread count.
 * skip_udigest (NULL or 32 bytes): a chunk whose SHA-256 equals it is not
 * recorded (outcome VMP_PUT_SKIPPED): the caller gives it another way, e.g.
 * copy_chunk from the container whose index gave that digest.
 * outcome (out): what became of each chunk.
 */
enum { VMP_PUT_ZERO = 1, VMP_PUT_STORED = 2, VMP_PUT_SKIPPED = 3 };
struct vmp_chunk_put {
    uint64_t index;
    const void *data;
    size_t len;
    const uint8_t *skip_udigest;
    int outcome;
};
int vmp_writer_image_put_chunks(vmp_writer *w, unsigned image_id, struct vmp_chunk_put *chunks,
                                size_t n);

/* A state section (spec/container.md 6): id unique, version >= 1, flags
 * from enum vmp_section_flags, data copied (at most VMP_SECTION_MAX_BYTES). */
int vmp_writer_add_section(vmp_writer *w, const char *id, uint32_t version, uint32_t flags,
                           const void *data, size_t len);

/* Finishes and atomically replaces the target (spec/container.md 8).
 * If out_manifest_digest is not NULL it receives the manifest digest. */
int vmp_writer_commit(vmp_writer *w, uint8_t out_manifest_digest[VMP_DIGEST_BYTES]);

/* Statistics of what was written so far (valid after commit too). */
int vmp_writer_image_stats(const vmp_writer *w, unsigned image_id, struct vmp_image_stats *st);

#ifdef __cplusplus
}
#endif
#endif
