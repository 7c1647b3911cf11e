/*
 * cmd_check.c - `vmpack check FILE`: can this host run (or resume) the
 * container? The checks (format version, required sections, a suspended
 * container's RAM image and CPU state, the CPU profile's features against
 * this host, spec/snapshot.md 4) live in cli_check.c, shared with `vmpack
 * run` and `vmpack resume`. Exit 0 if it can, 1 with each reason on stderr
 * if not.
 */
#include "cli.h"
#include "cli_check.h"
#include "cli_container.h"

#include <getopt.h>
#include <string.h>

int cmd_check(int argc, char **argv);

static void help(void)
{
    printf("usage: vmpack check FILE\n\n"
           "Tell whether this host can run or resume the container: its format\n"
           "version, its required state sections, and every CPU feature of its\n"
           "profile that this host (or vmpack's translator) lacks, by name.\n"
           "`vmpack run` and `vmpack resume` refuse a container with the same\n"
           "messages. Exits 0 if it can, 1 if not (each reason on stderr).\n\n"
           "  -q, --quiet  print nothing on success\n"
           "  -h, --help   show this help\n");
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const struct vmp_config *cfg;
    const char *path;
    vmp_reader *r = NULL;
    unsigned skipped = 0;
    int c, quiet = 0;

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
    if (cli_check_container(r, path, &skipped) != 0) {
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
