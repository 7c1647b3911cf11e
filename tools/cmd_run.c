/*
 * cmd_run.c - `vmpack run FILE.vmpk`: boot the container's guest with COM1
 * as the console, until it powers off.
 */
#include "cli.h"
#include "cli_container.h"
#include "cli_profile.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmpack/vm.h>

/* Exit status when the guest asks for a reset (we do not reboot it). */
#define RUN_EXIT_RESET 3

static void help(void)
{
    printf("usage: vmpack run FILE.vmpk [--cpu-stats] [--hostfwd HOST:GUEST]\n\n"
           "Boot the powered-off guest of FILE on vmpack's virtual PC. COM1 is the\n"
           "console: its output goes to stdout; when stdin is a terminal it is put in\n"
           "raw mode (Ctrl-A x quits, Ctrl-A h shows the escape keys), otherwise\n"
           "stdin's bytes are typed into the guest as the UART takes them, e.g.\n"
           "  printf 'uname -m\\npoweroff -f\\n' | vmpack run linux.vmpk\n"
           "Disk writes go to a scratch copy-on-write file; FILE is never changed.\n\n"
           "  --cpu-stats          print translator and board counters on stderr at the end\n"
           "  --hostfwd H:G        forward TCP 127.0.0.1:H on the host to the guest's port G\n"
           "  -h, --help           show this help\n\n"
           "Exit status: 0 when the guest powers off or halts (or Ctrl-A x), %d when it\n"
           "asks for a reset (reboot, or a panic with panic=-1), 1 on an error or a\n"
           "stop by signal, 2 for bad arguments.\n",
           RUN_EXIT_RESET);
}

static vmp_vm *run_vm; /* for the signal handler */

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
            "vmpack: cpu-stats: irqs %llu, hlt waits %llu, io wakeups %llu, unclaimed mmio "
            "%llu, console in %llu B out %llu B, dirty disk chunks %llu\n",
            (double)st.run_ns / 1e9, (unsigned long long)st.blocks_translated,
            (unsigned long long)st.cache_flushes, (unsigned long long)st.smc_invalidations,
            (unsigned long long)st.cpu_exits, (unsigned long long)st.helper_calls,
            (unsigned long long)st.irqs_delivered, (unsigned long long)st.hlt_waits,
            (unsigned long long)st.io_wakeups, (unsigned long long)st.unclaimed_mmio,
            (unsigned long long)st.console_in_bytes, (unsigned long long)st.console_out_bytes,
            (unsigned long long)st.disk_dirty_chunks);
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"cpu-stats", no_argument, NULL, 'S'},
                                         {"hostfwd", required_argument, NULL, 'F'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct vmp_vm_options vo;
    struct vmp_vm_exit ex;
    struct sigaction sa;
    const char *path;
    vmp_reader *r = NULL;
    vmp_vm *vm = NULL;
    int c, rc, stats = 0, ret = CLI_FAIL;

    vmp_vm_options_init(&vo);
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            stats = 1;
            break;
        case 'F':
            if (parse_hostfwd(optarg, &vo.net_hostfwd_host_port, &vo.net_hostfwd_guest_port))
                return cli_usage("run", "--hostfwd: expected HOSTPORT:GUESTPORT, got '%s'", optarg);
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_bad_option("run", c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage("run", "expected one container file");
    path = argv[optind];
    r = cli_open(path);
    if (r == NULL)
        return CLI_FAIL;
    /* DESIGN.md "CPU feature masking": a host that lacks a feature of the
     * container's profile is refused, naming the feature */
    if (cli_profile_check_host(&vmp_reader_config(r)->cpu, path, 1) != 0)
        goto out;
    if ((rc = vmp_vm_create(&vm)) != 0) {
        cli_error("run", "%s", vmp_strerror(rc));
        goto out;
    }
    if ((rc = vmp_vm_load(vm, r, &vo)) != 0) {
        cli_error_lib(path, vmp_vm_errmsg(vm), rc);
        goto out;
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

    rc = vmp_vm_run(vm, &ex);
    if (stats)
        print_stats(vm);
    if (rc != 0) {
        cli_error_lib(path, vmp_vm_errmsg(vm), rc);
        goto out;
    }
    switch (ex.reason) {
    case VMP_VM_POWEROFF:
        ret = CLI_OK;
        break;
    case VMP_VM_HALTED:
        fprintf(stderr, "vmpack: %s: the guest halted with interrupts off (EIP 0x%08x)\n", path,
                ex.eip);
        ret = CLI_OK;
        break;
    case VMP_VM_QUIT:
        fprintf(stderr, "vmpack: %s: quit from the console\n", path);
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
