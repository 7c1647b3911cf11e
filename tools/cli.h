/*
 * cli.h - what the vmpack subcommands share: the command table entry,
 * error printing, size parsing and progress reporting.
 *
 * A subcommand is one file tools/cmd_<name>.c defining
 *   int cmd_<name>(int argc, char **argv);
 * (argv[0] is the subcommand's name; getopt_long state is fresh) and one
 * entry in the table in vmpack.c. It returns the process exit status:
 * CLI_OK, CLI_FAIL (the work failed; the reason is on stderr) or
 * CLI_USAGE (bad arguments). Every subcommand answers --help on stdout.
 */
#ifndef VMP_CLI_H
#define VMP_CLI_H

#include <stdint.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli_cmd {
    const char *name;
    const char *summary;    /* one line for `vmpack --help` */
    int (*run)(int argc, char **argv);
};

/* The table in vmpack.c, terminated by a NULL name. */
extern const struct cli_cmd cli_cmds[];

int cmd_create(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_export_disk(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* "vmpack: <what>: <why>" on stderr. Returns CLI_FAIL. */
int cli_error(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A libvmpack message about `what` (a path): "vmpack: <what>: <msg>", with
 * msg's own leading "<what>: " dropped so the path is not said twice; an
 * empty msg falls back to vmp_strerror(status). Returns CLI_FAIL. */
int cli_error_lib(const char *what, const char *msg, int status);

/* "vmpack <cmd>: <why>" and a pointer to --help on stderr. Returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * After getopt_long returned '?' or ':' (the optstring must start with
 * ':' and opterr be 0): names the bad option. Returns CLI_USAGE.
 */
int cli_bad_option(const char *cmd, int c, char **argv);

/*
 * A byte count: decimal digits with an optional binary suffix K, M, G or T
 * (also KiB, MiB, ... and KB-style spellings, all powers of 1024), or B.
 * 0 on success; -1 for anything else, including overflow past 2^64 - 1.
 */
int cli_parse_size(const char *s, uint64_t *bytes);

/* A non-negative decimal integer that fits in *out; 0 or -1. */
int cli_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* "1.5 GiB", "256 MiB", "512 B": for messages and inspect. */
const char *cli_fmt_size(uint64_t bytes, char *buf, size_t buflen);

/*
 * Progress on stderr, on one line redrawn at most ten times a second.
 * Shown only when stderr is a terminal or when forced (--progress).
 */
struct cli_progress {
    const char *label;
    uint64_t total;         /* 0: unknown */
    int enabled;
    double start_s, last_s;
};
void cli_progress_begin(struct cli_progress *p, const char *label, uint64_t total, int force);
void cli_progress_update(struct cli_progress *p, uint64_t done);
void cli_progress_end(struct cli_progress *p);

/* Seconds on the monotonic clock. */
double cli_now(void);

/* Reads a whole (small) file into a NUL-terminated buffer; caller frees.
 * On failure prints the error and returns NULL. */
char *cli_read_small_file(const char *path, size_t max_bytes, size_t *len);

#endif
