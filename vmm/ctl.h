/*
 * ctl.h - the control socket of a running VM (spec/snapshot.md 5): a Unix
 * stream socket DIR/NAME.sock with a line protocol, a server the board's
 * I/O loop polls (no thread of its own), and a client for the CLI.
 *
 * Protocol: the client sends one request line "VERB[ ARG]\n" (at most
 * CTL_LINE_MAX bytes with the newline); the server answers with any number
 * of lines "- TEXT\n" (progress, information) and one final line, either
 * "ok[ TEXT]\n" or "error TEXT\n", then closes. The server answers
 * "status" itself ("ok name=N pid=P state=S container=PATH"); every other
 * verb ("suspend PATH", "quit", ...) goes to the owner's handler.
 *
 * Lifecycle, server:
 *   1. ctl_dir(xdg_runtime_dir, buf) names the folder (created 0700);
 *   2. ctl_server_open(dir, name, container, handler, ctx, &s, err):
 *      refuses a name a live VM holds, removes a stale socket;
 *   3. poll ctl_server_fd(s) for POLLIN; call ctl_server_handle(s) when it
 *      is readable: it accepts one client, reads its request (waiting at
 *      most CTL_REQUEST_MS, so a silent client stalls the owner's loop
 *      no longer) and answers or calls the handler;
 *      ctl_server_set_state(s, "running") whenever the state changes;
 *   4. ctl_server_close(s): removes the socket file. NULL does nothing.
 * Lifecycle, client: ctl_request(dir, name, line, on_line, ctx, reply, err).
 * Listing: ctl_list(dir, fn, ctx) calls fn for each socket in dir, with its
 * status or with "stale" after removing a socket no process listens on.
 * Errors: 0 or a negative vmp_status, message in err. Never prints, never
 * reads the environment (the caller passes $XDG_RUNTIME_DIR).
 * Thread safety: one thread per server; clients are independent.
 */
#ifndef VMP_CTL_H
#define VMP_CTL_H

#include <stddef.h>

#define CTL_LINE_MAX   4096
#define CTL_TIMEOUT_MS 2000 /* a client's wait for each answer line (status) */
#define CTL_REQUEST_MS 500  /* the server's wait for the request line */
#define CTL_PATH_MAX   108  /* sun_path */

struct ctl_server;
struct ctl_conn;

/* The socket folder: XDG/vmpack if xdg is set and not empty, else
 * /tmp/vmpack-UID. Created 0700 if absent; refused (VMP_ERR_IO) if it is
 * not a folder owned by this user with no access for others. */
int ctl_dir(const char *xdg_runtime_dir, char *buf, size_t buflen, char *err, size_t errlen);

/* A VM name: 1..63 bytes of [A-Za-z0-9._-], not starting with '.'. */
int ctl_name_valid(const char *name);

/*
 * Called for each request the server does not answer itself. verb and arg
 * (arg "" when absent) are valid during the call. The handler answers with
 * ctl_reply/ctl_progress and returns 0; the server then closes the
 * connection (sending "ok" if the handler sent no final line). Returning 1
 * keeps the connection: the handler owns c and must finish it later with
 * ctl_reply(c, ...final...) and ctl_conn_close(c).
 */
typedef int ctl_handler(void *ctx, struct ctl_conn *c, const char *verb, const char *arg);

int ctl_server_open(const char *dir, const char *name, const char *container, ctl_handler *handler,
                    void *ctx, struct ctl_server **out, char *err, size_t errlen);
void ctl_server_close(struct ctl_server *s);
int ctl_server_fd(const struct ctl_server *s);
/* "running", "paused", "suspending", ...: reported by "status". */
void ctl_server_set_state(struct ctl_server *s, const char *state);
/* 0, or a negative vmp_status for a failed accept (a client that sent a
 * bad request or hung up is answered or dropped, and is not an error). */
int ctl_server_handle(struct ctl_server *s);

/* A progress or information line ("- TEXT"). Errors writing to a client
 * that went away are ignored: the work goes on. */
void ctl_progress(struct ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The final line: ok (status 0, "ok TEXT") or error ("error TEXT"). */
void ctl_reply(struct ctl_conn *c, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ctl_conn_close(struct ctl_conn *c);

/*
 * Sends line (without newline) to DIR/NAME.sock and reads the answer:
 * on_line (may be NULL) gets each "- " line's text; reply (replylen may be
 * 0) gets the final line's text. 0 for "ok"; VMP_ERR_INVALID for "error"
 * (its text in err too); VMP_ERR_NOT_FOUND if no socket; VMP_ERR_STATE if
 * the socket is stale (removed); VMP_ERR_IO otherwise. timeout_ms bounds
 * the wait for each line (0: none, for a long suspend).
 */
int ctl_request(const char *dir, const char *name, const char *line,
                void (*on_line)(void *ctx, const char *text), void *ctx, int timeout_ms,
                char *reply, size_t replylen, char *err, size_t errlen);

/* One VM found by ctl_list: its name and the text of its status answer
 * ("name=... pid=... state=... container=..."), or status NULL and why
 * (stale socket removed, not responding). */
typedef void ctl_list_fn(void *ctx, const char *name, const char *status, const char *why);
int ctl_list(const char *dir, ctl_list_fn *fn, void *ctx, char *err, size_t errlen);

#endif
