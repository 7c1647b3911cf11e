/*
 * fmt_test.h - what the format unit tests share: a sample container,
 * temporary folders, and a tar editor that rewrites a container with one
 * blob replaced and every digest that refers to it fixed up, so a test can
 * reach the check it means to hit instead of an earlier digest check.
 */
#ifndef VMP_FMT_TEST_H
#define VMP_FMT_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/vmpack.h>

/* A fresh folder under /tmp, removed (with its files) by tmpdir_remove. */
char *tmpdir_make(void);
void tmpdir_remove(char *dir);
/* dir + "/" + name in a static ring of buffers. */
const char *tpath(const char *dir, const char *name);

/* The sample's disk: 9 chunks of 4 KiB minus 1000 bytes at the end.
 * Chunk 1 and 5 are zero, chunk 2 equals chunk 0. */
#define SAMPLE_DISK_CHUNK 4096u
#define SAMPLE_DISK_BYTES (9u * 4096u - 1000u)
#define SAMPLE_MEM_BYTES (1u << 20)
void sample_disk(uint8_t *buf, uint32_t variant);
void sample_ram(uint8_t *buf);
void sample_cpu(struct vmp_x86_state *st);
void sample_config(struct vmp_config *c);

/* Writes the sample container (suspended: disk "root", RAM, kernel,
 * initrd, x86-cpu and an optional device section). variant changes
 * disk chunk 4 only. Returns the vmp status; asserts nothing. */
int sample_write(const char *path, uint32_t variant, char *err, size_t errlen);

/* A small container (a few KiB: two disk chunks, 16 KiB of RAM, both
 * sections), signed by a fresh key if sign, for the fuzz seed corpus. */
int sample_write_small(const char *path, int sign, char *err, size_t errlen);

/* ---- the tar editor --------------------------------------------------- */
struct tmember {
    char name[256];
    char type;
    char link[100];
    uint8_t *data;
    size_t len;
};
struct tedit {
    struct tmember *m;
    size_t n;
};
int tedit_load(struct tedit *t, const char *path);
int tedit_save(const struct tedit *t, const char *path);
void tedit_free(struct tedit *t);
/* The member named blobs/sha256/<hex of d>, or NULL. */
struct tmember *tedit_blob(struct tedit *t, const uint8_t d[32]);
struct tmember *tedit_find(struct tedit *t, const char *name);
/* Replaces blob old with new content; then every JSON member that names
 * "sha256:<old>" gets the new digest and size, recursively, and every
 * chunk index entry whose compressed digest is old gets the new digest
 * and compressed size. */
int tedit_replace_blob(struct tedit *t, const uint8_t old[32], const void *data, size_t len);
/* Appends a member. */
int tedit_add(struct tedit *t, const char *name, char type, const char *link, const void *data, size_t len);
/* Digest of the config / manifest / first index blob / a section / a chunk. */
int tedit_manifest(struct tedit *t, uint8_t d[32]);
int tedit_config(struct tedit *t, uint8_t d[32]);

/* Whole file helpers. */
uint8_t *file_read(const char *path, size_t *len);
int file_write(const char *path, const void *data, size_t len);

#endif
