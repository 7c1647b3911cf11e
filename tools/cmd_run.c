/*
 * cmd_run.c - `vmpack run FILE.vmpk`: boot the container's guest (or resume
 * a suspended one) with COM1 as the console, until it powers off or is
 * suspended through its control socket (--name; `vmpack suspend NAME`).
 * `vmpack resume` is the same with a suspended container required.
 */
#include "cli.h"
#include "cli_check.h"
#include "cli_container.h"
#include "cli_profile.h"
#include "cli_run.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmpack/ctl.h>
#include <vmpack/vm.h>

/* Exit status when the guest asks for a reset (we do not reboot it). */
#define RUN_EXIT_RESET 3

static void help(const char *cmd)
{
    if (strcmp(cmd, "resume") == 0)
        printf("usage: vmpack resume FILE.vmpk [--name NAME] [--cpu-stats] [--hostfwd H:G]\n\n"
               "Bring the suspended guest of FILE back at the instruction where it\n"
               "stopped: its registers, memory, devices and disks as saved, its clock\n"
               "going on from the value it had (the time the container spent suspended\n"
               "does not pass for the guest), COM1 reattached as the console. A host that\n"
               "lacks a CPU feature of the container's profile is refused, as by\n"
               "`vmpack check`. `vmpack run` of a suspended container does the same.\n\n");
    else
        printf("usage: vmpack run FILE.vmpk [--name NAME] [--cpu-stats] [--hostfwd H:G]\n\n"
               "Boot the powered-off guest of FILE on vmpack's virtual PC (or resume a\n"
               "suspended one, as `vmpack resume`).\n");
    printf("COM1 is the console: its output goes to stdout; when stdin is a terminal\n"
           "it is put in raw mode (Ctrl-A x quits, Ctrl-A h shows the escape keys),\n"
           "otherwise stdin's bytes are typed into the guest as the UART takes them,\n"
           "e.g.  printf 'uname -m\\npoweroff -f\\n' | vmpack run linux.vmpk\n"
           "Disk writes go to a scratch copy-on-write file; FILE changes only when the\n"
           "guest is suspended into it (`vmpack suspend NAME`).\n\n"
           "  --name NAME          a control socket under this name, for `vmpack ps`,\n"
           "                       `vmpack suspend NAME` and `vmpack stop NAME`\n"
           "                       (1-63 of A-Z a-z 0-9 . _ -)\n"
           "  --cpu-stats          print translator, view (system mode's shadow page\n"
           "                       tables), icount and board counters on stderr at the end\n"
           "  --hostfwd H:G        forward TCP 127.0.0.1:H on the host to the guest's port G\n"
           "  --deterministic      boot in deterministic mode: time counts guest\n"
           "                       instructions, entropy from a seed in the container, no\n"
           "                       network; same input, same run (spec/machine.md); a\n"
           "                       container suspended so, or made with `vmpack create\n"
           "                       --deterministic`, runs so without it\n"
           "  --ram-digest         print 'ram sha256 HEX' and 'icount N' on stderr at the end\n"
           "  -h, --help           show this help\n\n"
           "Exit status: 0 when the guest powers off or halts (or Ctrl-A x, or\n"
           "`vmpack stop NAME`), or once it is suspended; %d when it asks for a\n"
           "reset (reboot, or a panic with panic=-1); 1 on an error or a stop by\n"
           "signal; 2 for bad arguments.\n",
           RUN_EXIT_RESET);
}

static vmp_vm *run_vm; /* for the signal handler */

/* --ram-digest: what two deterministic runs compare. */
static void print_ram_digest(const vmp_vm *vm)
{
    uint8_t d[32];
    char hex[65];
    struct vmp_vm_stats st;

    if (vmp_vm_ram_digest(vm, d) != 0)
        return;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    vmp_vm_get_stats(vm, &st);
    fprintf(stderr, "ram sha256 %s\nicount %llu%s\n", hex, (unsigned long long)st.icount,
            st.deterministic ? " (deterministic)" : "");
}

static void on_signal(int sig)
{
    (void)sig;
    vmp_vm_request_stop(run_vm);
}

static int parse_hostfwd(const char *s, uint16_t *host, uint16_t *guest)
{
    uint64_t h, g;
    const char *colon = strchr(s, ':');
    char buf[16];

    if (colon == NULL || (size_t)(colon - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(colon - s));
    buf[colon - s] = 0;
    if (cli_parse_uint(buf, 65535, &h) != 0 || cli_parse_uint(colon + 1, 65535, &g) != 0 ||
        h == 0 || g == 0)
        return -1;
    *host = (uint16_t)h;
    *guest = (uint16_t)g;
    return 0;
}

static void print_stats(const vmp_vm *vm)
{
    struct vmp_vm_stats st;

    vmp_vm_get_stats(vm, &st);
    fprintf(stderr,
            "vmpack: cpu-stats: run %.3f s, blocks translated %llu, cache flushes %llu, "
            "smc invalidations %llu, exits %llu, helper calls %llu\n"
            "vmpack: cpu-stats: view maps %llu, view flushes %llu, view resets %llu, icount "
            "%llu%s\n"
            "vmpack: cpu-stats: irqs %llu, hlt waits %llu, io wakeups %llu, unclaimed mmio "
            "%llu, console in %llu B out %llu B, dirty disk chunks %llu\n",
            (double)st.run_ns / 1e9, (unsigned long long)st.blocks_translated,
            (unsigned long long)st.cache_flushes, (unsigned long long)st.smc_invalidations,
            (unsigned long long)st.cpu_exits, (unsigned long long)st.helper_calls,
            (unsigned long long)st.view_maps, (unsigned long long)st.view_flushes,
            (unsigned long long)st.view_resets, (unsigned long long)st.icount,
            st.deterministic ? " (deterministic)" : "", (unsigned long long)st.irqs_delivered,
            (unsigned long long)st.hlt_waits, (unsigned long long)st.io_wakeups,
            (unsigned long long)st.unclaimed_mmio, (unsigned long long)st.console_in_bytes,
            (unsigned long long)st.console_out_bytes, (unsigned long long)st.disk_dirty_chunks);
}

/* The guest was saved: say where and with which figures. */
static void run_suspended(const char *path, const char *name, const char *out,
                          const struct vmp_vm_save_stats *st)
{
    char a[32], b[32];

    fprintf(stderr,
            "vmpack: %s: suspended VM '%s' into %s in %.1f s: %llu chunks new, %llu copied, %llu "
            "zero (RAM %llu new, %llu copied, %llu zero); %s stored anew, file %s\n",
            path, name, out, st->seconds, (unsigned long long)st->chunks_new,
            (unsigned long long)st->chunks_copied, (unsigned long long)st->chunks_zero,
            (unsigned long long)st->ram_new, (unsigned long long)st->ram_copied,
            (unsigned long long)st->ram_zero, cli_fmt_size(st->bytes_new, a, sizeof a),
            cli_fmt_size(st->file_bytes, b, sizeof b));
}

int cmd_run(int argc, char **argv)
{
    return cli_run_guest("run", argc, argv, 0);
}

int cli_run_guest(const char *cmd, int argc, char **argv, int resume_only)
{
    static const struct option opts[] = {{"cpu-stats", no_argument, NULL, 'S'},
                                         {"hostfwd", required_argument, NULL, 'F'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"deterministic", no_argument, NULL, 'D'},
                                         {"ram-digest", no_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct vmp_vm_options vo;
    struct vmp_vm_save_stats sst;
    struct vmp_vm_exit ex;
    struct sigaction sa;
    const char *path, *name = NULL;
    char abs[PATH_MAX], out[4096];
    vmp_reader *r = NULL;
    vmp_vm *vm = NULL;
    int c, rc, stats = 0, ret = CLI_FAIL, suspended, ram_digest = 0;
    double t0;

    vmp_vm_options_init(&vo);
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            stats = 1;
            break;
        case 'F':
            if (parse_hostfwd(optarg, &vo.net_hostfwd_host_port, &vo.net_hostfwd_guest_port))
                return cli_usage(cmd, "--hostfwd: expected HOSTPORT:GUESTPORT, got '%s'", optarg);
            break;
        case 'n':
            name = optarg;
            break;
        case 'D':
            vo.deterministic = 1;
            break;
        case 'R':
            ram_digest = 1;
            break;
        case 'h':
            help(cmd);
            return CLI_OK;
        default:
            return cli_bad_option(cmd, c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(cmd, "expected one container file");
    path = argv[optind];
    if (name != NULL && !vmp_ctl_name_valid(name))
        return cli_usage(cmd,
                         "--name: expected 1-63 of A-Z a-z 0-9 . _ - (not starting with "
                         "'.'), got '%s'",
                         name);
    r = cli_open(path);
    if (r == NULL)
        return CLI_FAIL;
    suspended = vmp_reader_config(r)->power == VMP_POWER_SUSPENDED;
    if (resume_only && !suspended) {
        cli_error(path, "powered off, not suspended: there is nothing to resume (vmpack run boots "
                        "it)");
        goto out;
    }
    /* DESIGN.md "CPU feature masking": a host that lacks a feature of the
     * container's profile is refused, naming each, as `vmpack check` does
     * (and the translator's own limits, which check leaves to run) */
    if (cli_check_container(r, path, NULL) != 0 ||
        cli_profile_check_host(&vmp_reader_config(r)->cpu, path, 1) != 0)
        goto out;
    if ((rc = vmp_vm_create(&vm)) != 0) {
        cli_error(cmd, "%s", vmp_strerror(rc));
        goto out;
    }
    t0 = cli_now();
    if ((rc = vmp_vm_load(vm, r, &vo)) != 0) {
        cli_error_lib(path, vmp_vm_errmsg(vm), rc);
        goto out;
    }
    if (suspended)
        fprintf(stderr, "vmpack: %s: resumed (state loaded in %.2f s)\n", path, cli_now() - t0);
    if (name != NULL) {
        if (realpath(path, abs) == NULL)
            snprintf(abs, sizeof abs, "%s", path);
        rc = vmp_vm_control_open(vm, getenv("XDG_RUNTIME_DIR"), name, abs);
        if (rc != 0) {
            cli_error_lib(path, vmp_vm_errmsg(vm), rc);
            goto out;
        }
    }
    /* SA_ONSTACK: the vCPU thread runs with the guest's stack pointer */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    run_vm = vm;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    for (;;) {
        rc = vmp_vm_run(vm, &ex);
        if (rc != 0 || ex.reason != VMP_VM_SUSPEND)
            break;
        /* `vmpack suspend NAME`: save into the path its client gave */
        rc = vmp_vm_control_suspend(vm, out, sizeof out, &sst);
        if (rc == 0)
            break;
        cli_error_lib(path, vmp_vm_errmsg(vm), rc);
    }
    if (stats)
        print_stats(vm);
    if (ram_digest)
        print_ram_digest(vm);
    if (rc != 0) {
        cli_error_lib(path, vmp_vm_errmsg(vm), rc);
        goto out;
    }
    switch (ex.reason) {
    case VMP_VM_SUSPEND:
        run_suspended(path, name, out, &sst);
        ret = CLI_OK;
        break;
    case VMP_VM_POWEROFF:
        ret = CLI_OK;
        break;
    case VMP_VM_HALTED:
        fprintf(stderr, "vmpack: %s: the guest halted with interrupts off (EIP 0x%08x)\n", path,
                ex.eip);
        ret = CLI_OK;
        break;
    case VMP_VM_QUIT:
        fprintf(stderr, "vmpack: %s: quit (the console's Ctrl-A x, or `vmpack stop`)\n", path);
        ret = CLI_OK;
        break;
    case VMP_VM_RESET:
        fprintf(stderr,
                "vmpack: %s: the guest asked for a reset (reboot, or a panic); stopped, not "
                "rebooted\n",
                path);
        ret = RUN_EXIT_RESET;
        break;
    default:
        fprintf(stderr, "vmpack: %s: stopped by a signal (EIP 0x%08x)\n", path, ex.eip);
        ret = CLI_FAIL;
        break;
    }
out:
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    run_vm = NULL;
    vmp_vm_destroy(vm);
    vmp_reader_destroy(r);
    return ret;
}
