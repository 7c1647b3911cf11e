/*
 * vmpack.c - the vmpack command line: finds the subcommand and runs it.
 * Adding a subcommand is one entry in cli_cmds[] and one file cmd_<name>.c.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

#ifndef VMP_VERSION
#define VMP_VERSION "0.1.0"
#endif

/* Subcommands of the suspend work, declared here rather than in cli.h. */
int cmd_check(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_suspend(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_stop(int argc, char **argv);

const struct cli_cmd cli_cmds[] = {
    {"create", "make a powered-off container from a kernel, disks and a CPU profile", cmd_create},
    {"inspect", "show a container's hardware, CPU, state, chunks and signatures", cmd_inspect},
    {"verify", "check every digest, and the signature when given a key", cmd_verify},
    {"keygen", "make an Ed25519 key pair for signing", cmd_keygen},
    {"sign", "sign a container's manifest", cmd_sign},
    {"export-disk", "write a container's disk back as a raw image", cmd_export_disk},
    {"diff", "show which config fields, sections and chunks differ", cmd_diff},
    {"profile", "list the built-in CPU profiles or print one as JSON", cmd_profile},
    {"run", "boot a powered-off container's guest with COM1 as the console", cmd_run},
    {"suspend", "save a running VM into its container and end it", cmd_suspend},
    {"resume", "bring a suspended container's guest back where it stopped", cmd_resume},
    {"stop", "end a running VM without saving it (its container stays as it was)", cmd_stop},
    {"check", "tell whether this host can run or resume a container, and why not", cmd_check},
    {"ps", "list this user's running VMs (name, pid, state, container)", cmd_ps},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    const struct cli_cmd *c;

    fprintf(f, "usage: vmpack <command> [options]\n"
               "       vmpack <command> --help\n"
               "       vmpack --version\n\n"
               "Freeze a virtual machine into one portable file and bring it back.\n\n"
               "commands:\n");
    for (c = cli_cmds; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
}

int main(int argc, char **argv)
{
    const struct cli_cmd *c;

    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (strcmp(argv[1], "help") == 0 && argc > 2) {
            for (c = cli_cmds; c->name; c++) {
                if (strcmp(c->name, argv[2]) == 0) {
                    char *hargv[] = {argv[2], (char *)"--help", NULL};

                    optind = 0;
                    return c->run(2, hargv);
                }
            }
            return cli_usage("help", "unknown command '%s'", argv[2]);
        }
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("vmpack %s\n", VMP_VERSION);
        return CLI_OK;
    }
    for (c = cli_cmds; c->name; c++) {
        if (strcmp(c->name, argv[1]) == 0) {
            optind = 0; /* glibc: reinitialise getopt for the subcommand */
            opterr = 0; /* cli_bad_option() reports, in our format */
            return c->run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "vmpack: '%s' is not a vmpack command\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
