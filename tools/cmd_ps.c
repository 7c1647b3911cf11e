/*
 * cmd_ps.c - `vmpack ps`: the running VMs of this user, found by their
 * control sockets ($XDG_RUNTIME_DIR/vmpack, else /tmp/vmpack-UID) and asked
 * for their status; sockets left by VMs that died are removed.
 */
#include "cli.h"
#include "cli_ctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <vmpack/ctl.h>

int cmd_ps(int argc, char **argv);

struct ps_ctx {
    int quiet;
    unsigned shown;
};

static void help(void)
{
    printf("usage: vmpack ps [-q]\n\n"
           "List the running VMs of this user: name, process id, state and the\n"
           "container each was started from. VMs are found by their control\n"
           "sockets in $XDG_RUNTIME_DIR/vmpack (else /tmp/vmpack-UID); a socket\n"
           "left by a VM that died is removed and reported on stderr.\n\n"
           "  -q, --quiet  names only, one a line\n"
           "  -h, --help   show this help\n");
}

static void ps_one(void *ctx, const char *name, const char *status, const char *why)
{
    struct ps_ctx *c = ctx;
    char pid[32], state[32], container[1024];

    if (status == NULL) {
        fprintf(stderr, "vmpack: %s: %s\n", name, why);
        return;
    }
    if (c->quiet) {
        printf("%s\n", name);
        return;
    }
    if (c->shown++ == 0)
        printf("%-20s %8s  %-12s %s\n", "NAME", "PID", "STATE", "CONTAINER");
    cli_ctl_field(status, "pid", pid, sizeof pid);
    cli_ctl_field(status, "state", state, sizeof state);
    cli_ctl_field(status, "container", container, sizeof container);
    printf("%-20s %8s  %-12s %s\n", name, pid, state, container);
}

int cmd_ps(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct ps_ctx ctx = {0, 0};
    char dir[256], err[512];
    int c;

    while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            ctx.quiet = 1;
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_bad_option("ps", c, argv);
        }
    }
    if (argc != optind)
        return cli_usage("ps", "takes no arguments");
    if (vmp_ctl_dir(getenv("XDG_RUNTIME_DIR"), dir, sizeof dir, err, sizeof err) != 0)
        return cli_error("ps", "%s", err);
    if (vmp_ctl_list(dir, ps_one, &ctx, err, sizeof err) != 0)
        return cli_error("ps", "%s", err);
    if (!ctx.quiet && ctx.shown == 0)
        printf("no running VMs (sockets in %s)\n", dir);
    return CLI_OK;
}
