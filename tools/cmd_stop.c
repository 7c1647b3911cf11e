/*
 * cmd_stop.c - `vmpack stop NAME`: ends the running VM NAME without saving
 * it, through its control socket's "quit" (spec/snapshot.md 5), then waits
 * for the VM process to end. The container stays as it was; the guest's
 * state since then is lost, as after a power cut.
 */
#include "cli.h"
#include "cli_ctl.h"

#include <getopt.h>

#include <vmpack/ctl.h>

int cmd_stop(int argc, char **argv);

/* How long the VM process may take to end after its "ok". */
#define STOP_EXIT_WAIT_S 10.0

static void help(void)
{
    printf("usage: vmpack stop NAME\n\n"
           "End the running VM NAME (see `vmpack ps`) without saving it: its vCPU\n"
           "stops at the next block boundary and its process exits (`vmpack run`\n"
           "exits 0). Its container is not written: the guest's state and disk\n"
           "writes since the container was made are lost, as after a power cut.\n"
           "To keep them, use `vmpack suspend NAME` instead. A VM that is saving a\n"
           "suspend refuses the stop.\n\n"
           "  -h, --help   show this help\n\n"
           "Exit status: 0 once the VM process has ended; 1 if no VM of that name\n"
           "runs, it refused, or it did not end within %.0f s; 2 for bad arguments.\n",
           STOP_EXIT_WAIT_S);
}

int cmd_stop(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    char dir[256], err[4096], reply[VMP_CTL_LINE_MAX];
    const char *name;
    long pid;
    int c, rc;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_bad_option("stop", c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage("stop", "expected one VM name (see vmpack ps)");
    name = argv[optind];
    rc = cli_ctl_dir("stop", name, dir, sizeof dir);
    if (rc != CLI_OK)
        return rc;

    /* the PID first: "quit" answers before the process ends */
    rc = vmp_ctl_request(dir, name, "status", NULL, NULL, VMP_CTL_TIMEOUT_MS, reply, sizeof reply, err,
                     sizeof err);
    if (rc != 0)
        return cli_error("stop", "%s", err);
    pid = (long)cli_ctl_num(reply, "pid");
    rc = vmp_ctl_request(dir, name, "quit", NULL, NULL, VMP_CTL_TIMEOUT_MS, reply, sizeof reply, err,
                     sizeof err);
    if (rc != 0)
        return cli_error("stop", "VM '%s': %s", name, err);
    if (pid > 0 && cli_ctl_wait_exit(pid, STOP_EXIT_WAIT_S) != 0)
        return cli_error("stop",
                         "VM '%s' (process %ld) accepted the stop but has not ended after %.0f s",
                         name, pid, STOP_EXIT_WAIT_S);
    printf("stopped VM '%s' (process %ld); its container was not written\n", name, pid);
    return CLI_OK;
}
