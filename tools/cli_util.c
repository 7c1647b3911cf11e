/*
 * cli_util.c - error printing, size parsing and progress for the vmpack
 * subcommands (see cli.h). The one place that decides how the CLI talks.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vmpack/error.h>

int cli_error(const char *what, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "vmpack: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_error_lib(const char *what, const char *msg, int status)
{
    size_t n = strlen(what);

    if (msg == NULL || msg[0] == '\0')
        return cli_error(what, "%s", vmp_strerror(status));
    if (strncmp(msg, what, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    return cli_error(what, "%s", msg);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "vmpack: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'vmpack %s --help'.\n", cmd);
    return CLI_USAGE;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";

    if (c == ':')
        return cli_usage(cmd, "option '%s' needs a value", arg);
    if (optopt != 0 && strncmp(arg, "--", 2) != 0)
        return cli_usage(cmd, "unknown option '-%c'", optopt);
    return cli_usage(cmd, "unknown option '%s'", arg);
}

int cli_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        unsigned d;

        if (*s < '0' || *s > '9')
            return -1;
        d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
    char digits[32];
    const char *unit;
    size_t n;
    unsigned shift;
    uint64_t v;

    if (s == NULL)
        return -1;
    for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
        ;
    if (n == 0 || n >= sizeof digits)
        return -1;
    memcpy(digits, s, n);
    digits[n] = '\0';
    if (cli_parse_uint(digits, UINT64_MAX, &v) != 0)
        return -1;
    unit = s + n;
    switch (*unit) {
    case '\0': shift = 0; break;
    case 'B': shift = 0; break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return -1;
    }
    if (*unit != '\0') {
        const char *rest = unit + 1;

        if (*unit == 'B') {
            if (*rest != '\0')
                return -1;
        } else if (!(strcmp(rest, "") == 0 || strcmp(rest, "B") == 0 ||
                     strcmp(rest, "iB") == 0)) {
            return -1;
        }
    }
    if (shift != 0 && v > (UINT64_MAX >> shift))
        return -1;
    *bytes = v << shift;
    return 0;
}

const char *cli_fmt_size(uint64_t bytes, char *buf, size_t buflen)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    unsigned u = 0;

    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, buflen, "%llu B", (unsigned long long)bytes);
    else if (v == (double)(uint64_t)v)
        snprintf(buf, buflen, "%llu %s", (unsigned long long)v, units[u]);
    else
        snprintf(buf, buflen, "%.1f %s", v, units[u]);
    return buf;
}

double cli_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_begin(struct cli_progress *p, const char *label, uint64_t total, int force)
{
    p->label = label;
    p->total = total;
    p->enabled = force || isatty(STDERR_FILENO);
    p->start_s = cli_now();
    p->last_s = 0;
}

void cli_progress_update(struct cli_progress *p, uint64_t done)
{
    double now;
    char a[32], b[32];

    if (!p->enabled)
        return;
    now = cli_now();
    if (now - p->last_s < 0.1)
        return;
    p->last_s = now;
    if (p->total != 0)
        fprintf(stderr, "\r%s: %3u%% (%s of %s)\033[K", p->label,
                (unsigned)(done * 100 / p->total), cli_fmt_size(done, a, sizeof a),
                cli_fmt_size(p->total, b, sizeof b));
    else
        fprintf(stderr, "\r%s: %s\033[K", p->label, cli_fmt_size(done, a, sizeof a));
    fflush(stderr);
}

void cli_progress_end(struct cli_progress *p)
{
    if (!p->enabled || p->last_s == 0)
        return;
    fprintf(stderr, "\r%s: done in %.1f s\033[K\n", p->label, cli_now() - p->start_s);
}

char *cli_read_small_file(const char *path, size_t max_bytes, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL) {
        cli_error(path, "%s", strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t got;

        if (n == cap) {
            char *nb;

            if (cap >= max_bytes) {
                cli_error(path, "larger than %zu bytes", max_bytes);
                goto fail;
            }
            cap = cap ? cap * 2 : 4096;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                cli_error(path, "out of memory");
                goto fail;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cli_error(path, "%s", strerror(errno));
        goto fail;
    }
    if (n > max_bytes) {
        cli_error(path, "larger than %zu bytes", max_bytes);
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}
