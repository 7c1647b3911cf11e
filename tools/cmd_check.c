/*
 * cmd_check.c - `vmpack check FILE`: can this host run (or resume) the
 * container? Checks the format version, that every required section is one
 * this vmpack understands, that a suspended container carries its RAM image
 * and CPU state, and that this host has every CPU feature of the
 * container's profile (spec/cpu-profiles.md 4). Exit 0 if it can, 1 with
 * each reason on stderr if not.
 */
#include "cli.h"
#include "cli_container.h"

#include <getopt.h>
#include <string.h>

#include <vmpack/x86section.h>

/* The sections this vmpack restores: the CPU (spec/container.md 6.3) and
 * the board's devices (spec/devices.md 1). Container section version 1. */
static const struct vmp_section_support check_known[] = {
    {VMP_X86_SECTION_ID, VMP_X86_SECTION_VERSION},
    {"dev.pic", 1},
    {"dev.pit", 1},
    {"dev.rtc", 1},
    {"dev.uart0", 1},
    {"dev.i8042", 1},
    {"dev.virtio-0", 1},
    {"dev.virtio-1", 1},
    {"dev.virtio-2", 1},
    {"dev.virtio-3", 1},
    {"dev.virtio-4", 1},
    {"dev.virtio-5", 1},
    {"dev.acpi-pm", 1},
};

static void help(void)
{
    printf("usage: vmpack check FILE\n\n"
           "Tell whether this host can run or resume the container: its format\n"
           "version, its required state sections, and every CPU feature of its\n"
           "profile that this host (or vmpack's translator) lacks, by name.\n"
           "Exits 0 if it can, 1 if not (each reason on stderr).\n\n"
           "  -q, --quiet  print nothing on success\n"
           "  -h, --help   show this help\n");
}

static void feat_text(unsigned feat, char *buf, size_t buflen)
{
    const char *name = vmp_feat_name(feat);

    if (name != NULL)
        snprintf(buf, buflen, "%s", name);
    else
        snprintf(buf, buflen, "cpuid word %u bit %u", VMP_FEAT_WORD(feat), VMP_FEAT_BIT(feat));
}

/* Names the profile's features the host lacks; returns how many. */
static size_t check_cpu(const char *path, const struct vmp_cpu_profile *p, int *read_failed)
{
    struct vmp_cpu_profile host;
    unsigned miss[128];
    size_t n, i, shown;
    char list[2048], one[64];

    *read_failed = 0;
    if (vmp_profile_read_host(&host) != 0) {
        cli_error(path, "cannot read this host's CPUID");
        *read_failed = 1;
        return 0;
    }
    n = vmp_profile_missing(p, &host, miss, sizeof miss / sizeof miss[0]);
    if (n == 0)
        return 0;
    shown = n < sizeof miss / sizeof miss[0] ? n : sizeof miss / sizeof miss[0];
    list[0] = '\0';
    for (i = 0; i < shown; i++) {
        feat_text(miss[i], one, sizeof one);
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, one, sizeof list - strlen(list) - 1);
    }
    cli_error(path, "CPU profile '%s' has %zu feature%s this host cannot run: %s", p->name, n,
              n == 1 ? "" : "s", list);
    return n;
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const struct vmp_config *cfg;
    const char *path;
    vmp_reader *r = NULL;
    unsigned skipped = 0, sec, ram_image;
    int c, rc, quiet = 0, bad = 0, read_failed;
    size_t nmissing;

    while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quiet = 1;
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_bad_option("check", c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage("check", "expected one container file");
    path = argv[optind];
    /* The reader refuses a format version other than VMP_FORMAT_VERSION
     * (VMP_ERR_VERSION, naming both), and any malformed container. */
    r = cli_open(path);
    if (r == NULL)
        return CLI_FAIL;
    cfg = vmp_reader_config(r);
    if (cfg->format_version != VMP_FORMAT_VERSION) {
        cli_error(path, "format version %u, this vmpack reads %u", cfg->format_version,
                  VMP_FORMAT_VERSION);
        bad++;
    }
    rc = vmp_reader_sections_check(r, check_known, sizeof check_known / sizeof check_known[0],
                                   &skipped);
    if (rc != 0) {
        cli_error_lib(path, vmp_reader_errmsg(r), rc);
        bad++;
    }
    if (cfg->power == VMP_POWER_SUSPENDED) {
        if (vmp_reader_image_find(r, "ram", &ram_image) != 0) {
            cli_error(path, "suspended, but has no \"ram\" image");
            bad++;
        }
        if (vmp_reader_section_find(r, VMP_X86_SECTION_ID, &sec) != 0) {
            cli_error(path, "suspended, but has no \"%s\" section", VMP_X86_SECTION_ID);
            bad++;
        }
    }
    nmissing = check_cpu(path, &cfg->cpu, &read_failed);
    if (nmissing != 0 || read_failed)
        bad++;
    if (bad != 0) {
        cli_error(path, "this host cannot %s it",
                  cfg->power == VMP_POWER_SUSPENDED ? "resume" : "run");
        vmp_reader_destroy(r);
        return CLI_FAIL;
    }
    if (!quiet) {
        printf("%s: format version %u; %s; CPU profile '%s': every feature available; "
               "%u section%s (%u optional skipped)\n",
               path, cfg->format_version,
               cfg->power == VMP_POWER_SUSPENDED ? "suspended" : "powered off", cfg->cpu.name,
               vmp_reader_section_count(r), vmp_reader_section_count(r) == 1 ? "" : "s", skipped);
        printf("%s: OK: this host can %s it\n", path,
               cfg->power == VMP_POWER_SUSPENDED ? "resume" : "run");
    }
    vmp_reader_destroy(r);
    return CLI_OK;
}
