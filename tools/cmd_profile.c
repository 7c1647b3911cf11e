/*
 * cmd_profile.c - `vmpack profile [NAME|FILE] [--json]`: list the built-in
 * CPU profiles, or show one (features, or the JSON of spec/cpu-profiles.md).
 */
#include "cli.h"
#include "cli_profile.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf("usage: vmpack profile [NAME|FILE.json] [--json]\n\n"
           "Without an argument, list the built-in CPU profiles. With one, show\n"
           "that profile: vendor, family/model/stepping and features, or with\n"
           "--json its exact CPUID leaves (a file you can edit and pass to\n"
           "`vmpack create --cpu FILE.json`). \"host\" is this host's CPU masked\n"
           "to what the translator runs.\n\n"
           "  --json     print the profile as JSON\n"
           "  -h, --help show this help\n");
}

static void show(const struct vmp_cpu_profile *p, int verbose)
{
    char vendor[13], feats[2048];
    unsigned fam, mod, step;

    cli_profile_vendor(p, vendor);
    cli_profile_signature(p, &fam, &mod, &step);
    cli_profile_features(p, feats, sizeof feats);
    if (!verbose) {
        printf("%-12s %s family %u model %u stepping %u\n", p->name, vendor, fam, mod, step);
        return;
    }
    printf("name:     %s\nvendor:   %s\nfamily:   %u\nmodel:    %u\nstepping: %u\n"
           "features: %s\n", p->name, vendor, fam, mod, step, feats);
}

int cmd_profile(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct vmp_cpu_profile p;
    int json = 0, c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': help(); return CLI_OK;
        default: return cli_bad_option("profile", c, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage("profile", "expected at most one profile");
    if (optind == argc) {
        const char *const *n;

        if (json)
            return cli_usage("profile", "--json needs a profile name");
        for (n = vmp_profile_names(); *n; n++) {
            if (vmp_profile_builtin(*n, &p) != 0)
                return cli_error(*n, "cannot build this profile on this host");
            show(&p, 0);
        }
        return CLI_OK;
    }
    if (cli_profile_load(argv[optind], "profile", &p) != 0)
        return CLI_FAIL;
    if (json) {
        char buf[8192];

        if (vmp_profile_to_json(&p, buf, sizeof buf) != 0)
            return cli_error(argv[optind], "profile does not fit the JSON buffer");
        fputs(buf, stdout);
        return CLI_OK;
    }
    show(&p, 1);
    return CLI_OK;
}
