/*
 * snapshot.h - save a stopped VM's state into a suspended container and
 * load it back (spec/snapshot.md). Functions over explicit inputs (CPU
 * state, device sections, a RAM memfd, disks as a source image plus dirty
 * chunks), so they run without a vCPU; vm.c gathers the inputs from a
 * struct vmp_vm.
 *
 * Lifecycle, save:
 *   1. fill a struct snapshot_in (everything it points to is the caller's
 *      and is only read);
 *   2. snapshot_save(&in, path, &stats, err, errlen): writes a temporary
 *      file next to path and renames it over path at the end (the writer's
 *      commit, spec/container.md 8): path holds either its old content or
 *      the whole new container, also when the call fails midway.
 * Lifecycle, load:
 *   1. snapshot_load(reader, &st, &stats, err, errlen) on an open suspended
 *      container: RAM restored into a new memfd (eagerly, zero chunks left
 *      as holes), the CPU state decoded, every other section read;
 *   2. use st (st.ram_fd stays open until snapshot_state_free; the caller
 *      may take it by setting st.ram_fd to -1);
 *   3. snapshot_state_free(&st) (also after a failed load).
 * Errors: 0 or a negative vmp_status, the message in err. Never prints.
 * Thread safety: none of its own; src readers are only read.
 */
#ifndef VMP_SNAPSHOT_H
#define VMP_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/reader.h>
#include <vmpack/writer.h>
#include <vmpack/x86state.h>

/* A device state section (spec/devices.md): id, payload version, bytes. */
struct snapshot_section {
    const char *id;
    uint32_t version;
    uint32_t flags; /* enum vmp_section_flags; save: VMP_SECTION_REQUIRED is usual */
    const void *data;
    size_t len;
};

/*
 * A disk: the image src_image of the source container, with the chunks the
 * guest wrote since it was opened. dirty_next gives the first dirty chunk
 * >= from (1) or says there is none (0); read_chunk gives a dirty chunk's
 * current bytes (its size in *len) and returns 0 or nonzero to fail
 * (VMP_ERR_CALLBACK). diskback_dirty_next / diskback_read_chunk fit.
 */
struct snapshot_disk {
    unsigned src_image;
    int (*dirty_next)(void *ctx, uint64_t from, uint64_t *chunk);
    int (*read_chunk)(void *ctx, uint64_t chunk, void *buf, size_t buflen, size_t *len);
    void *ctx;
};

/* A snapshot_disk over the board's disk backend (diskback.h): its dirty
 * list and its working file. d must outlive the save. */
struct diskback;
void snapshot_disk_diskback(struct snapshot_disk *dk, struct diskback *d, unsigned src_image);

#define SNAPSHOT_MAX_DISKS 8

struct snapshot_in {
    const struct vmp_config *config; /* copied with power set to suspended */
    const struct vmp_x86_state *cpu;
    const struct snapshot_section *sections; /* device sections, any order */
    size_t nsections;
    int ram_fd;               /* guest RAM, read with pread */
    uint64_t ram_bytes;       /* config->mem_bytes */
    uint32_t ram_chunk_bytes; /* 0: the source's RAM chunk size, else VMP_RAM_CHUNK_DEFAULT */
    /* The container the VM came from (or its last snapshot): its disks are
     * the base of the disks below, and its RAM image (if any) lets RAM
     * chunks that did not change be copied by digest. It may be open on
     * the target path itself (the rename leaves its open file alone). */
    vmp_reader *src;
    const struct snapshot_disk *disks; /* images of src, in the order to write them */
    unsigned ndisks;
    /* Called with bytes done and total after each chunk; nonzero aborts
     * (VMP_ERR_CALLBACK) and leaves the target as it was. May be NULL. */
    int (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

/* Chunks written by a save, or read by a load. */
struct snapshot_stats {
    uint64_t chunks_new;                    /* compressed and stored anew */
    uint64_t chunks_copied;                 /* copied by digest from src, not recompressed */
    uint64_t chunks_zero;                   /* all zero: not stored */
    uint64_t ram_new, ram_copied, ram_zero; /* the RAM image's part of the above */
    uint64_t bytes_new;                     /* uncompressed bytes of the chunks stored anew */
    uint64_t file_bytes;                    /* the container's size after commit */
    double seconds;                         /* wall time of the call */
};

int snapshot_save(const struct snapshot_in *in, const char *path, struct snapshot_stats *stats,
                  char *err, size_t errlen);

struct snapshot_state {
    struct vmp_x86_state cpu;
    struct snapshot_section *sections; /* every section but the CPU's; data malloc'd */
    size_t nsections;
    int ram_fd; /* memfd of ram_bytes, or -1 */
    uint64_t ram_bytes;
};

/* VMP_ERR_STATE if the container is not suspended; the reader's and the
 * codec's refusals otherwise. stats may be NULL. */
int snapshot_load(vmp_reader *r, struct snapshot_state *st, struct snapshot_stats *stats, char *err,
                  size_t errlen);
void snapshot_state_free(struct snapshot_state *st);

/* The section of st with this id, or NULL. */
const struct snapshot_section *snapshot_state_section(const struct snapshot_state *st,
                                                      const char *id);

#endif
