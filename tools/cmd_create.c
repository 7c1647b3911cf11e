/*
 * cmd_create.c - `vmpack create`: a powered-off container from a CPU
 * profile, a memory size, optional kernel, initrd and command line, and
 * raw disk images.
 */
#include "cli.h"
#include "cli_container.h"
#include "cli_det.h"
#include "cli_profile.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmpack/container.h>
#include <vmpack/writer.h>

#define MAX_DISKS 8

static void help(void)
{
    printf("usage: vmpack create -o OUT.vmpk --memory SIZE --cpu PROFILE [options]\n\n"
           "Make a powered-off container: the virtual hardware, the boot files and\n"
           "the disks, each disk cut into zstd chunks (zero chunks are not stored).\n\n"
           "  -o, --output FILE     the container to write (replaced atomically)\n"
           "  -m, --memory SIZE     guest RAM, e.g. 256M or 1G (4 KiB multiple, <= 4G)\n"
           "  -c, --cpu PROFILE     a built-in CPU profile (see `vmpack profile`) or a\n"
           "                        path to a JSON profile (spec/cpu-profiles.md)\n"
           "  -k, --kernel FILE     a Linux bzImage\n"
           "  -i, --initrd FILE     an initramfs\n"
           "      --cmdline STRING  the kernel command line\n"
           "  -d, --disk FILE       a raw disk image; repeat for more (vda, vdb, ...)\n"
           "      --chunk-size SIZE disk chunk size, a power of two in 4K..16M\n"
           "                        (default 1M)\n"
           "      --ram-image FILE  also store a raw RAM image of exactly --memory bytes\n"
           "                        (for tests and benchmarks; the container stays off)\n"
           "      --level N         zstd level 1..19 (default 3)\n"
           "      --progress        show progress even when stderr is not a terminal\n"
           "      --deterministic   record deterministic mode (spec/machine.md 7): every\n"
           "                        `vmpack run` of the container then counts time in\n"
           "                        guest instructions, draws virtio-rng bytes from the\n"
           "                        seed and has no network, without --deterministic\n"
           "      --seed HEX        with --deterministic: the virtio-rng seed, 1 to 64 hex\n"
           "                        digits (a number; default: random, shown by inspect)\n"
           "      --rtc WHEN        with --deterministic: the RTC at power on, Unix\n"
           "                        seconds or YYYY-MM-DD[THH:MM:SS[Z]] in UTC\n"
           "                        (default 2024-01-01T00:00:00Z)\n"
           "  -h, --help            show this help\n");
}

struct src {
    int fd;
    const char *path;
    uint32_t chunk_bytes;
    struct cli_progress *prog;
    uint64_t done;
    int err;
};

/* Chunk source for the writer: pread keeps it independent of call order. */
static int src_read(void *ctx, uint64_t chunk_index, void *buf, size_t len)
{
    struct src *s = ctx;
    uint64_t off = chunk_index * s->chunk_bytes;
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(s->fd, (char *)buf + got, len - got, (off_t)(off + got));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->err = n < 0 ? errno : EIO;
            return -1;
        }
        got += (size_t)n;
    }
    s->done += len;
    cli_progress_update(s->prog, s->done);
    return 0;
}

static int add_image(vmp_writer *w, const char *path, const char *name, uint32_t kind,
                     uint32_t chunk_bytes, uint64_t want_size, int force_progress)
{
    struct vmp_image_desc d;
    struct cli_progress prog;
    struct src s;
    struct stat st;
    char label[96];
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cli_error(path, "%s", strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cli_error(path, "not a regular file");
    }
    if (want_size != 0 && (uint64_t)st.st_size != want_size) {
        close(fd);
        return cli_error(path, "RAM image is %llu bytes, --memory says %llu",
                         (unsigned long long)st.st_size, (unsigned long long)want_size);
    }
    memset(&d, 0, sizeof d);
    d.name = name;
    d.kind = kind;
    d.size_bytes = (uint64_t)st.st_size;
    d.chunk_bytes = chunk_bytes;
    if (d.chunk_bytes == 0)
        d.chunk_bytes = kind == VMP_IMAGE_RAM ? VMP_RAM_CHUNK_DEFAULT : VMP_DISK_CHUNK_DEFAULT;
    snprintf(label, sizeof label, "packing %s", name);
    cli_progress_begin(&prog, label, d.size_bytes, force_progress);
    s = (struct src){fd, path, d.chunk_bytes, &prog, 0, 0};
    rc = vmp_writer_add_image_cb(w, &d, src_read, &s);
    cli_progress_end(&prog);
    close(fd);
    if (rc == VMP_ERR_CALLBACK && s.err != 0)
        return cli_error(path, "%s", strerror(s.err));
    if (rc != 0)
        return cli_error_lib(path, vmp_writer_errmsg(w), rc);
    return 0;
}

/* 1 ns per instruction and the RTC's start are spec/machine.md 7's defaults
 * for a powered-off container run with --deterministic. */
#define CREATE_DET_NS_PER_INSN 1
#define CREATE_DET_RTC_DEFAULT 1704067200 /* 2024-01-01T00:00:00Z */

static int random_seed(uint8_t seed[VMP_DET_SEED_BYTES])
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return cli_error("/dev/urandom", "%s", strerror(errno));
    n = read(fd, seed, VMP_DET_SEED_BYTES);
    close(fd);
    if (n != (ssize_t)VMP_DET_SEED_BYTES)
        return cli_error("/dev/urandom", "short read");
    return 0;
}

static int set_boot_file(vmp_writer *w, const char *path, int initrd)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return cli_error(path, "%s", strerror(errno));
    rc = initrd ? vmp_writer_set_initrd_fd(w, fd) : vmp_writer_set_kernel_fd(w, fd);
    close(fd);
    if (rc != 0)
        return cli_error_lib(path, vmp_writer_errmsg(w), rc);
    return 0;
}

int cmd_create(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},  {"memory", required_argument, NULL, 'm'},
        {"cpu", required_argument, NULL, 'c'},     {"kernel", required_argument, NULL, 'k'},
        {"initrd", required_argument, NULL, 'i'},  {"cmdline", required_argument, NULL, 'C'},
        {"disk", required_argument, NULL, 'd'},    {"chunk-size", required_argument, NULL, 'S'},
        {"ram-image", required_argument, NULL, 'R'}, {"level", required_argument, NULL, 'L'},
        {"progress", no_argument, NULL, 'P'},      {"help", no_argument, NULL, 'h'},
        {"deterministic", no_argument, NULL, 'D'}, {"seed", required_argument, NULL, 'e'},
        {"rtc", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0}};
    const char *out = NULL, *mem_arg = NULL, *cpu_arg = NULL, *kernel = NULL, *initrd = NULL;
    const char *cmdline = NULL, *ram_image = NULL, *disks[MAX_DISKS];
    struct vmp_config *cfg = NULL;
    vmp_writer *w = NULL;
    uint64_t mem_bytes = 0, chunk = 0, level = 0;
    unsigned ndisks = 0, i;
    int c, progress = 0, ret = CLI_FAIL, rc, det = 0, have_seed = 0, have_rtc = 0;
    struct vmp_det dp = {CREATE_DET_NS_PER_INSN, {0}, CREATE_DET_RTC_DEFAULT, 0, 0};
    uint8_t det_bytes[VMP_DET_SECTION_BYTES];
    char name[VMP_NAME_MAX];

    while ((c = getopt_long(argc, argv, ":o:m:c:k:i:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'm': mem_arg = optarg; break;
        case 'c': cpu_arg = optarg; break;
        case 'k': kernel = optarg; break;
        case 'i': initrd = optarg; break;
        case 'C': cmdline = optarg; break;
        case 'R': ram_image = optarg; break;
        case 'P': progress = 1; break;
        case 'D': det = 1; break;
        case 'e':
            if (cli_det_parse_seed(optarg, dp.seed) != 0)
                return cli_usage("create", "bad --seed '%s': expected 1 to 64 hex digits", optarg);
            have_seed = 1;
            break;
        case 'r':
            if (cli_det_parse_rtc(optarg, &dp.rtc_unix_seconds) != 0)
                return cli_usage("create", "bad --rtc '%s': expected Unix seconds or a UTC date "
                                 "YYYY-MM-DD[THH:MM:SS[Z]] from 1970 to 9999", optarg);
            have_rtc = 1;
            break;
        case 'd':
            if (ndisks == MAX_DISKS)
                return cli_usage("create", "at most %d disks", MAX_DISKS);
            disks[ndisks++] = optarg;
            break;
        case 'S':
            if (cli_parse_size(optarg, &chunk) != 0 || chunk < VMP_CHUNK_MIN ||
                chunk > VMP_CHUNK_MAX || (chunk & (chunk - 1)) != 0)
                return cli_usage("create", "bad --chunk-size '%s': expected a power of two "
                                 "from 4K to 16M", optarg);
            break;
        case 'L':
            if (cli_parse_uint(optarg, 19, &level) != 0 || level < 1)
                return cli_usage("create", "bad --level '%s': expected 1 to 19", optarg);
            break;
        case 'h': help(); return CLI_OK;
        default: return cli_bad_option("create", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage("create", "unexpected argument '%s'", argv[optind]);
    if (out == NULL)
        return cli_usage("create", "-o OUT.vmpk is required");
    if (mem_arg == NULL)
        return cli_usage("create", "--memory is required (e.g. --memory 256M)");
    if (cpu_arg == NULL)
        return cli_usage("create", "--cpu is required (e.g. --cpu i686; see `vmpack profile`)");
    if (cli_parse_size(mem_arg, &mem_bytes) != 0)
        return cli_usage("create", "bad --memory '%s': expected a size such as 256M or 1G",
                         mem_arg);
    if (mem_bytes < (1u << 20) || mem_bytes > VMP_MEM_MAX_BYTES || mem_bytes % 4096 != 0)
        return cli_usage("create", "bad --memory '%s': must be a multiple of 4K from 1M to 4G",
                         mem_arg);
    if (cmdline != NULL && strlen(cmdline) >= VMP_CMDLINE_MAX)
        return cli_usage("create", "--cmdline is longer than %d bytes", VMP_CMDLINE_MAX - 1);
    if (cmdline != NULL && !cli_utf8_valid(cmdline))
        return cli_usage("create", "--cmdline is not valid UTF-8");
    if ((have_seed || have_rtc) && !det)
        return cli_usage("create", "%s needs --deterministic", have_seed ? "--seed" : "--rtc");
    if (det && !have_seed && random_seed(dp.seed) != 0)
        return CLI_FAIL;

    cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return cli_error("create", "out of memory");
    vmp_config_init(cfg);
    cfg->power = VMP_POWER_OFF;
    cfg->mem_bytes = mem_bytes;
    if (cli_profile_load(cpu_arg, "--cpu", &cfg->cpu) != 0 ||
        cli_profile_check_host(&cfg->cpu, "--cpu", 0) != 0)
        goto out;
    if (cmdline != NULL)
        snprintf(cfg->cmdline, sizeof cfg->cmdline, "%s", cmdline);
    /* spec/machine.md: COM1 is the console; each disk is a virtio-blk. */
    snprintf(cfg->devices[cfg->ndevices].kind, VMP_NAME_MAX, "uart16550");
    snprintf(cfg->devices[cfg->ndevices].id, VMP_NAME_MAX, "com1");
    cfg->ndevices++;
    for (i = 0; i < ndisks; i++) {
        struct vmp_device *d = &cfg->devices[cfg->ndevices++];

        snprintf(d->kind, VMP_NAME_MAX, "virtio-blk");
        snprintf(d->id, VMP_NAME_MAX, "vd%c", 'a' + i);
        snprintf(d->image, VMP_NAME_MAX, "disk%u", i);
    }

    if ((rc = vmp_writer_create(&w)) != 0) {
        cli_error("create", "%s", vmp_strerror(rc));
        goto out;
    }
    if ((rc = vmp_writer_open(w, out)) != 0) {
        cli_error_lib(out, vmp_writer_errmsg(w), rc);
        goto out;
    }
    if (level != 0 && (rc = vmp_writer_set_level(w, (int)level)) != 0) {
        cli_error_lib("--level", vmp_writer_errmsg(w), rc);
        goto out;
    }
    if ((rc = vmp_writer_set_config(w, cfg)) != 0) {
        cli_error_lib("create", vmp_writer_errmsg(w), rc);
        goto out;
    }
    if (kernel != NULL && set_boot_file(w, kernel, 0) != 0)
        goto out;
    if (initrd != NULL && set_boot_file(w, initrd, 1) != 0)
        goto out;
    for (i = 0; i < ndisks; i++) {
        snprintf(name, sizeof name, "disk%u", i);
        if (add_image(w, disks[i], name, VMP_IMAGE_DISK, (uint32_t)chunk, 0, progress) != 0)
            goto out;
    }
    if (ram_image != NULL &&
        add_image(w, ram_image, "ram", VMP_IMAGE_RAM, 0, mem_bytes, progress) != 0)
        goto out;
    /* required: a reader that does not know it must not run the guest in
     * real time (spec/machine.md 7) */
    if (det) {
        vmp_det_encode(&dp, det_bytes);
        rc = vmp_writer_add_section(w, VMP_DET_SECTION_ID, VMP_DET_SECTION_VERSION, VMP_SECTION_REQUIRED,
                                    det_bytes, sizeof det_bytes);
        if (rc != 0) {
            cli_error_lib(out, vmp_writer_errmsg(w), rc);
            goto out;
        }
    }
    if ((rc = vmp_writer_commit(w, NULL)) != 0) {
        cli_error_lib(out, vmp_writer_errmsg(w), rc);
        goto out;
    }
    ret = CLI_OK;
out:
    vmp_writer_destroy(w);
    free(cfg);
    return ret;
}
