/*
 * vmpack/ctl.h - talk to a running VM through its control socket
 * (spec/snapshot.md 5): the client side the CLI uses for `vmpack ps`,
 * `suspend` and `stop`. The VM's own side (the server its I/O loop polls)
 * is internal to the VMM.
 *
 * Lifecycle:
 *   1. vmp_ctl_dir(getenv("XDG_RUNTIME_DIR"), dir, ...) names the socket
 *      folder (created 0700 if absent);
 *   2. vmp_ctl_request(dir, NAME, "status" | "suspend PATH" | "quit", ...)
 *      sends one request and reads its answer, or vmp_ctl_list(dir, fn, ...)
 *      asks every VM in the folder for its status.
 * Protocol: one request line "VERB[ ARG]\n" (at most VMP_CTL_LINE_MAX bytes
 * with the newline); the answer is any number of "- TEXT\n" lines
 * (progress, information) and one final "ok[ TEXT]\n" or "error TEXT\n".
 * Errors: 0 or a negative vmp_status (vmpack/error.h), the message in err.
 * Never prints, never reads the environment (the caller passes
 * $XDG_RUNTIME_DIR). Thread safety: calls are independent.
 */
#ifndef VMPACK_CTL_H
#define VMPACK_CTL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMP_CTL_LINE_MAX   4096
#define VMP_CTL_TIMEOUT_MS 2000 /* a client's wait for each answer line (status) */
#define VMP_CTL_PATH_MAX   108  /* sun_path */

/* The socket folder: XDG/vmpack if xdg is set and not empty, else
 * /tmp/vmpack-UID. Created 0700 if absent; refused (VMP_ERR_IO) if it is
 * not a folder owned by this user with no access for others. */
int vmp_ctl_dir(const char *xdg_runtime_dir, char *buf, size_t buflen, char *err, size_t errlen);

/* A VM name: 1..63 bytes of [A-Za-z0-9._-], not starting with '.'. */
int vmp_ctl_name_valid(const char *name);

/*
 * Sends line (without newline) to DIR/NAME.sock and reads the answer:
 * on_line (may be NULL) gets each "- " line's text; reply (replylen may be
 * 0) gets the final line's text. 0 for "ok"; VMP_ERR_INVALID for "error"
 * (its text in err too); VMP_ERR_NOT_FOUND if no socket; VMP_ERR_STATE if
 * the socket is stale (removed); VMP_ERR_IO otherwise. timeout_ms bounds
 * the wait for each line (0: none, for a long suspend).
 */
int vmp_ctl_request(const char *dir, const char *name, const char *line,
                    void (*on_line)(void *ctx, const char *text), void *ctx, int timeout_ms,
                    char *reply, size_t replylen, char *err, size_t errlen);

/* One VM found by vmp_ctl_list: its name and the text of its status answer
 * ("name=... pid=... state=... container=..."), or status NULL and why
 * (stale socket removed, not responding). */
typedef void vmp_ctl_list_fn(void *ctx, const char *name, const char *status, const char *why);
int vmp_ctl_list(const char *dir, vmp_ctl_list_fn *fn, void *ctx, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
