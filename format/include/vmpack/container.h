/*
 * vmpack/container.h - the value types of a vmpack container (format v1).
 *
 * A container (spec/container.md) is one tar file holding an OCI image
 * layout. Its config blob describes the virtual hardware (struct
 * vmp_config), its images are disks and guest RAM cut into fixed-size
 * zstd chunks (struct vmp_image_info), its sections carry CPU and device
 * state (struct vmp_section_info), and it may carry Ed25519 signatures
 * over the manifest digest.
 *
 * This header only declares plain values (no allocation, no handles):
 * vmpack/writer.h makes containers, vmpack/reader.h opens them,
 * vmpack/sign.h holds keys and signing. vmpack/vmpack.h includes all.
 *
 * Lifecycle of a value: zero it (vmp_config_init for a config), fill it,
 * pass it by pointer. Thread safety: values are not shared by the library.
 */
#ifndef VMPACK_CONTAINER_H
#define VMPACK_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/error.h>
#include <vmpack/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The container format version this library reads and writes
 * (spec/container.md 1). A reader refuses any other version. */
#define VMP_FORMAT_VERSION 1

/* OCI and vmpack media types (spec/container.md 3). */
#define VMP_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define VMP_MT_CONFIG "application/vnd.vmpack.config.v1+json"
#define VMP_MT_CHUNK "application/vnd.vmpack.chunk.v1+zstd"
#define VMP_MT_CHUNK_INDEX "application/vnd.vmpack.chunk-index.v1"
#define VMP_MT_SECTION "application/vnd.vmpack.section.v1"
#define VMP_MT_KERNEL "application/vnd.vmpack.kernel.v1"
#define VMP_MT_INITRD "application/vnd.vmpack.initrd.v1"
#define VMP_MT_SIGNATURE "application/vnd.vmpack.signature.v1+json"

/* Limits (spec/container.md 9). Anything past them is refused. */
#define VMP_NAME_MAX 64                 /* ids and names, including the NUL */
#define VMP_CMDLINE_MAX 4096            /* kernel command line, including the NUL */
#define VMP_MAX_DEVICES 32
#define VMP_MAX_IMAGES 16
#define VMP_MAX_SECTIONS 256
#define VMP_MAX_SIGNATURES 16
#define VMP_CHUNK_MIN (4u << 10)        /* 4 KiB */
#define VMP_CHUNK_MAX (16u << 20)       /* 16 MiB */
#define VMP_DISK_CHUNK_DEFAULT (1u << 20)   /* 1 MiB: spec/container.md 5.1 */
#define VMP_RAM_CHUNK_DEFAULT (256u << 10)  /* 256 KiB: spec/container.md 5.1 */
#define VMP_IMAGE_MAX_BYTES (1ull << 44)    /* 16 TiB */
#define VMP_MEM_MAX_BYTES (1ull << 32)      /* a 32-bit guest without PAE */
#define VMP_SECTION_MAX_BYTES (64u << 20)
#define VMP_BOOT_BLOB_MAX_BYTES (1ull << 30) /* kernel, initrd */

/* SHA-256 digest, raw bytes; its text form is "sha256:" + 64 lowercase hex. */
#define VMP_DIGEST_BYTES 32
#define VMP_DIGEST_TEXT 72              /* "sha256:" + 64 hex + NUL */

enum vmp_power_state {
    VMP_POWER_OFF = 0,          /* boots from the kernel; no RAM image, no sections needed */
    VMP_POWER_SUSPENDED = 1,    /* resumes: RAM image and CPU section present */
};

/* A device of the virtual board (spec/container.md 4.3). */
struct vmp_device {
    char kind[VMP_NAME_MAX];    /* "uart16550", "virtio-blk", "virtio-net", ... */
    char id[VMP_NAME_MAX];      /* unique within the container: "com1", "vda" */
    char image[VMP_NAME_MAX];   /* backing image name for block devices, else "" */
};

/* The virtual hardware (the config blob, spec/container.md 4). Images,
 * kernel/initrd digests and sections are not here: they are added to a
 * writer and listed by a reader. */
struct vmp_config {
    uint32_t format_version;    /* VMP_FORMAT_VERSION; set by the reader, ignored by the writer */
    uint32_t power;             /* enum vmp_power_state */
    uint64_t mem_bytes;         /* guest RAM, a multiple of 4 KiB, <= VMP_MEM_MAX_BYTES */
    struct vmp_cpu_profile cpu; /* the exact CPUID leaves the guest sees */
    char cmdline[VMP_CMDLINE_MAX];
    uint32_t ndevices;
    struct vmp_device devices[VMP_MAX_DEVICES];
};

/* Zero a config and set format_version. */
void vmp_config_init(struct vmp_config *c);

enum vmp_image_kind {
    VMP_IMAGE_DISK = 0,
    VMP_IMAGE_RAM = 1,          /* at most one, named "ram" by convention */
};

enum vmp_image_flags {
    VMP_IMAGE_READ_ONLY = 1u << 0,
};

/* What a writer is told about an image before its chunks arrive. */
struct vmp_image_desc {
    const char *name;           /* unique among images, 1..VMP_NAME_MAX-1 bytes of [A-Za-z0-9._-] */
    uint32_t kind;              /* enum vmp_image_kind */
    uint32_t flags;             /* enum vmp_image_flags */
    uint64_t size_bytes;        /* <= VMP_IMAGE_MAX_BYTES; need not be a chunk multiple */
    uint32_t chunk_bytes;       /* power of two in [VMP_CHUNK_MIN, VMP_CHUNK_MAX]; 0: the default for kind */
};

/* What a reader reports about an image. */
struct vmp_image_info {
    char name[VMP_NAME_MAX];
    uint32_t kind;
    uint32_t flags;
    uint64_t size_bytes;
    uint32_t chunk_bytes;
    uint64_t nchunks;           /* ceil(size_bytes / chunk_bytes), zero chunks included */
    uint64_t stored_chunks;     /* chunks listed in the index (not all zero) */
    uint8_t index_digest[VMP_DIGEST_BYTES];
};

/* One chunk of an image (spec/container.md 5.2). */
struct vmp_chunk_info {
    uint64_t offset_bytes;      /* chunk_index * chunk_bytes */
    uint32_t size_bytes;        /* uncompressed; chunk_bytes except for the last chunk */
    uint32_t zero;              /* 1: all zero, no blob; digests and csize are then 0 */
    uint64_t csize_bytes;       /* size of the compressed blob */
    uint8_t udigest[VMP_DIGEST_BYTES];  /* SHA-256 of the uncompressed bytes */
    uint8_t cdigest[VMP_DIGEST_BYTES];  /* SHA-256 of the zstd frame (the blob) */
};

enum vmp_section_flags {
    VMP_SECTION_REQUIRED = 1u << 0, /* a reader that does not know it must refuse */
};

/* A CPU or device state section (spec/container.md 6). */
struct vmp_section_info {
    char id[VMP_NAME_MAX];      /* "x86-cpu", "dev/uart16550/com1", ... */
    uint32_t version;           /* of the payload layout, >= 1 */
    uint32_t flags;             /* enum vmp_section_flags */
    uint64_t size_bytes;
    uint8_t digest[VMP_DIGEST_BYTES];
};

/* What a consumer understands: id and the highest payload version. */
struct vmp_section_support {
    const char *id;
    uint32_t max_version;
};

/* Statistics of one image, for `vmpack inspect`. */
struct vmp_image_stats {
    uint64_t chunks_total;      /* nchunks */
    uint64_t chunks_zero;       /* omitted because all zero */
    uint64_t chunks_stored;     /* listed in the index */
    uint64_t chunks_dedup;      /* listed, but whose blob an earlier chunk of the container already uses */
    uint64_t bytes_uncompressed;/* sum of size_bytes of stored chunks */
    uint64_t bytes_compressed;  /* sum of the sizes of distinct blobs first used by this image */
};

/* Statistics of a whole container. */
struct vmp_container_stats {
    uint64_t file_bytes;
    uint64_t blobs;             /* distinct blobs in the tar */
    uint64_t blob_bytes;
    uint64_t signatures;
};

/* Digest helpers. vmp_digest_to_text writes "sha256:<hex>" (VMP_DIGEST_TEXT
 * bytes with the NUL). vmp_digest_from_text returns 0 or VMP_ERR_FORMAT. */
void vmp_digest_to_text(const uint8_t d[VMP_DIGEST_BYTES], char out[VMP_DIGEST_TEXT]);
int vmp_digest_from_text(const char *text, uint8_t d[VMP_DIGEST_BYTES]);
void vmp_sha256(const void *data, size_t len, uint8_t d[VMP_DIGEST_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
