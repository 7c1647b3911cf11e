/*
 * cli_ctl.h - what `vmpack ps`, `stop` and `suspend` share on the client
 * side of a running VM's control socket (vmpack/ctl.h, spec/snapshot.md 5):
 * the VM name check and socket folder, reading a field of an answer, and
 * waiting for the VM process to end after it accepted a stop.
 */
#ifndef VMP_CLI_CTL_H
#define VMP_CLI_CTL_H

#include <stddef.h>

/*
 * For `vmpack CMD NAME`: checks NAME (vmp_ctl_name_valid) and fills dir
 * with the socket folder of $XDG_RUNTIME_DIR. Returns CLI_OK, CLI_USAGE
 * (bad name) or CLI_FAIL (no folder), the reason already on stderr.
 */
int cli_ctl_dir(const char *cmd, const char *name, char *dir, size_t dirlen);

/*
 * The value of key in an answer "k=v k=v ... container=PATH": a key
 * matches only at a word start; "container" and "path" come last and run
 * to the end (they may hold spaces). 0, or -1 if absent (out is then "").
 */
int cli_ctl_field(const char *reply, const char *key, char *out, size_t outlen);

/* The value of key as a decimal number; 0 if absent. */
unsigned long long cli_ctl_num(const char *reply, const char *key);

/*
 * Waits up to max_s seconds for process pid to end; a process that ended
 * but was not reaped yet (a zombie) counts as gone. 0, or -1 on timeout.
 */
int cli_ctl_wait_exit(long pid, double max_s);

#endif
