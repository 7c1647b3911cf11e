/*
 * vmpack/error.h - status codes shared by every libvmpack call.
 *
 * A call that can fail returns int: 0 (VMP_OK) on success or one of the
 * negative codes below. The numbers are part of the ABI: a code is never
 * renumbered and a retired number is never reused. The detailed message
 * ("chunk 12 at 0x3f000: decodes to 70000 bytes, index says 65536") is kept
 * on the handle the call was made on and read with its _errmsg call
 * (vmp_reader_errmsg, vmp_writer_errmsg); calls on plain values (keys,
 * profiles, x86 state) take a caller buffer for it.
 *
 * Lifecycle: nothing to create; vmp_strerror is a pure function.
 * Thread safety: vmp_strerror is safe from any thread.
 */
#ifndef VMPACK_ERROR_H
#define VMPACK_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum vmp_status {
    VMP_OK = 0,
    VMP_ERR_NOMEM = -1,         /* an allocation failed */
    VMP_ERR_IO = -2,            /* a system call failed (errno in the message) */
    VMP_ERR_INVALID = -3,       /* a bad argument from the caller */
    VMP_ERR_NOT_FOUND = -4,     /* no such image, section, profile, blob */
    VMP_ERR_FORMAT = -5,        /* the container is malformed (tar, JSON, index) */
    VMP_ERR_DIGEST = -6,        /* a blob does not match its SHA-256 digest */
    VMP_ERR_VERSION = -7,       /* a format version this reader does not know */
    VMP_ERR_UNSUPPORTED = -8,   /* an unknown required section, or a feature not built */
    VMP_ERR_SIGNATURE = -9,     /* a signature does not verify */
    VMP_ERR_NO_SIGNATURE = -10, /* no signature by the given key */
    VMP_ERR_KEY = -11,          /* a malformed key file */
    VMP_ERR_LIMIT = -12,        /* a size or count beyond a limit of spec/container.md 9 */
    VMP_ERR_STATE = -13,        /* a call out of order (e.g. after commit) */
    VMP_ERR_CALLBACK = -14,     /* a caller's callback reported failure */
    VMP_ERR_TRUNCATED = -15,    /* the file ends before a structure it declares */
    VMP_ERR_DECOMPRESS = -16,   /* a zstd frame is corrupt or decodes to a wrong size */
};

/* A short constant name for a status ("digest mismatch"); never NULL.
 * Unknown codes give "unknown error". */
const char *vmp_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif
