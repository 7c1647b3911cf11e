/*
 * ctl.h - the control socket of a running VM (spec/snapshot.md 5): a Unix
 * stream socket DIR/NAME.sock with a line protocol, a server the board's
 * I/O loop polls (no thread of its own), and a client for the CLI.
 *
 * Protocol: the client sends one request line "VERB[ ARG]\n" (at most
 * VMP_CTL_LINE_MAX bytes with the newline); the server answers with any number
 * of lines "- TEXT\n" (progress, information) and one final line, either
 * "ok[ TEXT]\n" or "error TEXT\n", then closes. The server answers
 * "status" itself ("ok name=N pid=P state=S container=PATH"); every other
 * verb ("suspend PATH", "quit", ...) goes to the owner's handler.
 *
 * Lifecycle, server:
 *   1. vmp_ctl_dir(xdg_runtime_dir, buf) names the folder (created 0700);
 *   2. ctl_server_open(dir, name, container, handler, ctx, &s, err):
 *      refuses a name a live VM holds, removes a stale socket;
 *   3. poll ctl_server_fd(s) for POLLIN; call ctl_server_handle(s) when it
 *      is readable: it accepts one client, reads its request (waiting at
 *      most CTL_REQUEST_MS, so a silent client stalls the owner's loop
 *      no longer) and answers or calls the handler;
 *      ctl_server_set_state(s, "running") whenever the state changes;
 *   4. ctl_server_close(s): removes the socket file. NULL does nothing.
 * Client and listing: the public vmpack/ctl.h (vmp_ctl_request, vmp_ctl_list,
 * vmp_ctl_dir, vmp_ctl_name_valid); vmp_ctl_list calls fn for each socket, with its
 * status or with "stale" after removing a socket no process listens on.
 * Errors: 0 or a negative vmp_status, message in err. Never prints, never
 * reads the environment (the caller passes $XDG_RUNTIME_DIR).
 * Thread safety: one thread per server; clients are independent.
 */
#ifndef VMP_CTL_H
#define VMP_CTL_H

#include <stddef.h>

#include <vmpack/ctl.h> /* the client side, and VMP_CTL_LINE_MAX */

#define CTL_REQUEST_MS 500 /* the server's wait for the request line */

struct ctl_server;
struct ctl_conn;

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


#endif
