/*
 * cmd_suspend.c - `vmpack suspend NAME [-o OUT.vmpk]`: asks the running VM
 * NAME, through its control socket (spec/snapshot.md 5), to stop its guest
 * at an instruction boundary and save it into a suspended container (by
 * default the one it was started from, replaced atomically), then waits for
 * the VM process to end. The save itself runs in the VM's process
 * (vmm/vm_snap.c); this side shows its progress and its figures.
 */
#include "cli.h"
#include "cli_ctl.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <vmpack/ctl.h>

int cmd_suspend(int argc, char **argv);

/* Progress is shown once a suspend has taken longer than this. */
#define SUSPEND_QUIET_S 0.5
/* How long the VM process may take to end after its "ok". */
#define SUSPEND_EXIT_WAIT_S 10.0

struct susp_ctx {
    struct cli_progress prog;
    int verbose;
};

static void help(void)
{
    printf("usage: vmpack suspend NAME [-o OUT.vmpk] [--progress] [-v]\n\n"
           "Stop the guest of the running VM NAME (see `vmpack ps`) at an instruction\n"
           "boundary, save its RAM, CPU and device state, its clock and its disks'\n"
           "changed chunks into a suspended container, and end the VM. Without -o the\n"
           "container is the one the VM was started from, replaced atomically: a\n"
           "save that fails, or a VM killed while it saves, leaves the old file as it\n"
           "was (a failed save lets the guest run on; a killed VM's temporary file\n"
           "beside it, .FILE.tmp-PID-XXXXXX, is removed by the next save to FILE).\n"
           "The save runs in the VM's process: if this command is interrupted, the\n"
           "VM still completes it.\n"
           "Chunks that did not change since that container are copied, not stored\n"
           "again; the last line gives the counts. `vmpack resume OUT.vmpk` brings\n"
           "the guest back, on this host or another, from any folder.\n\n"
           "  -o, --output FILE   write the suspended container here instead\n"
           "  --progress          show progress even when stderr is not a terminal\n"
           "  -v, --verbose       show the VM's messages and progress on stderr, a line each\n"
           "  -h, --help          show this help\n\n"
           "Exit status: 0 once the guest is saved and its VM has ended; 1 if the VM\n"
           "is not running or the save failed (the guest then runs on); 2 for bad\n"
           "arguments.\n");
}

static void susp_line(void *ctx, const char *text)
{
    struct susp_ctx *c = ctx;
    unsigned long long done, total;

    if (sscanf(text, "progress %llu %llu", &done, &total) == 2) {
        c->prog.total = total;
        if (c->verbose)
            fprintf(stderr, "vmpack: saved %llu of %llu bytes\n", done, total);
        else if (cli_now() - c->prog.start_s >= SUSPEND_QUIET_S)
            cli_progress_update(&c->prog, done);
        return;
    }
    if (c->verbose)
        fprintf(stderr, "vmpack: %s\n", text);
}

int cmd_suspend(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"progress", no_argument, NULL, 'P'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct susp_ctx ctx;
    const char *name, *out = NULL;
    char dir[256], err[4096], reply[VMP_CTL_LINE_MAX], target[PATH_MAX], line[VMP_CTL_LINE_MAX];
    char cwd[PATH_MAX], a[32], b[32];
    long pid;
    int c, rc, force = 0, n;

    memset(&ctx, 0, sizeof ctx);
    while ((c = getopt_long(argc, argv, ":o:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'P':
            force = 1;
            break;
        case 'v':
            ctx.verbose = 1;
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_bad_option("suspend", c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage("suspend", "expected one VM name (see vmpack ps)");
    name = argv[optind];
    if (out != NULL && out[0] == '\0')
        return cli_usage("suspend", "-o: expected a file name");
    rc = cli_ctl_dir("suspend", name, dir, sizeof dir);
    if (rc != CLI_OK)
        return rc;

    /* The VM writes the file: it needs a path that does not depend on the
     * folder this command runs in. */
    if (out == NULL) {
        rc = vmp_ctl_request(dir, name, "status", NULL, NULL, VMP_CTL_TIMEOUT_MS, reply, sizeof reply, err,
                         sizeof err);
        if (rc != 0)
            return cli_error("suspend", "%s", err);
        if (cli_ctl_field(reply, "container", target, sizeof target) != 0 || target[0] != '/')
            return cli_error("suspend", "VM '%s' did not say which container it runs (%s)", name,
                             reply);
    } else if (out[0] == '/') {
        snprintf(target, sizeof target, "%s", out);
    } else {
        if (getcwd(cwd, sizeof cwd) == NULL)
            return cli_error("suspend", "getcwd: %s", strerror(errno));
        n = snprintf(target, sizeof target, "%s/%s", cwd, out);
        if (n < 0 || (size_t)n >= sizeof target)
            return cli_error(out, "path too long");
    }
    n = snprintf(line, sizeof line, "suspend %s", target);
    if (n < 0 || (size_t)n >= sizeof line)
        return cli_error(target, "path too long for a control request");

    cli_progress_begin(&ctx.prog, "suspend", 0, force);
    rc = vmp_ctl_request(dir, name, line, susp_line, &ctx, 0, reply, sizeof reply, err, sizeof err);
    cli_progress_end(&ctx.prog);
    if (rc != 0)
        return cli_error("suspend", "%s", err);
    pid = (long)cli_ctl_num(reply, "pid");
    printf("suspended VM '%s' into %s in %.1f s: %llu chunks new, %llu copied, %llu zero "
           "(RAM %llu new, %llu copied, %llu zero); %s stored anew, file %s\n",
           name, target, cli_now() - ctx.prog.start_s, cli_ctl_num(reply, "chunks_new"),
           cli_ctl_num(reply, "chunks_copied"), cli_ctl_num(reply, "chunks_zero"),
           cli_ctl_num(reply, "ram_new"), cli_ctl_num(reply, "ram_copied"), cli_ctl_num(reply, "ram_zero"),
           cli_fmt_size(cli_ctl_num(reply, "bytes_new"), a, sizeof a),
           cli_fmt_size(cli_ctl_num(reply, "file_bytes"), b, sizeof b));
    fflush(stdout);
    if (pid > 0 && cli_ctl_wait_exit(pid, SUSPEND_EXIT_WAIT_S) != 0)
        return cli_error("suspend",
                         "the guest is saved, but VM process %ld has not ended "
                         "after %.0f s",
                         pid, SUSPEND_EXIT_WAIT_S);
    return CLI_OK;
}
