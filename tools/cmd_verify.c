/*
 * cmd_verify.c - `vmpack verify FILE [--key PUB]`: every digest of the
 * container, every chunk decoded and checked, and a signature by the
 * given key. Exit 0 only if all of it holds.
 */
#include "cli.h"
#include "cli_container.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf("usage: vmpack verify FILE [--key KEY.pub] [--progress]\n\n"
           "Check every blob of the container against its SHA-256 digest, decode\n"
           "every chunk and check its size and digest, and with --key check that\n"
           "the container carries a valid Ed25519 signature by that key over its\n"
           "manifest. Exits 0 only if everything holds; otherwise names what\n"
           "failed and exits 1.\n\n"
           "  -k, --key FILE  a public key (NAME.pub from `vmpack keygen`)\n"
           "      --progress  show progress even when stderr is not a terminal\n"
           "  -h, --help      show this help\n");
}

static int on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct cli_progress *p = ctx;

    p->total = total;
    cli_progress_update(p, done);
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"progress", no_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *path;
    struct vmp_public_key pk;
    struct cli_progress prog;
    vmp_reader *r;
    int c, rc, progress = 0;
    char id[VMP_KEY_ID_TEXT];

    while ((c = getopt_long(argc, argv, ":k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key_path = optarg; break;
        case 'P': progress = 1; break;
        case 'h': help(); return CLI_OK;
        default: return cli_bad_option("verify", c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage("verify", "expected one container file");
    path = argv[optind];
    if (key_path != NULL && cli_load_public_key(key_path, &pk) != 0)
        return CLI_FAIL;
    r = cli_open(path);
    if (r == NULL)
        return CLI_FAIL;
    cli_progress_begin(&prog, "verifying", 0, progress);
    rc = vmp_reader_verify(r, key_path ? &pk : NULL, on_progress, &prog);
    cli_progress_end(&prog);
    if (rc != 0) {
        const char *msg = vmp_reader_errmsg(r);

        if (msg[0] == '\0' && (rc == VMP_ERR_NO_SIGNATURE || rc == VMP_ERR_SIGNATURE)) {
            vmp_key_id(&pk, id);
            cli_error(path, "signature by key %s: %s", id, vmp_strerror(rc));
        } else {
            cli_error_lib(path, msg, rc);
        }
        vmp_reader_destroy(r);
        return CLI_FAIL;
    }
    if (key_path != NULL) {
        vmp_key_id(&pk, id);
        printf("%s: OK: every digest holds; signed by key %s\n", path, id);
    } else {
        unsigned nsig = vmp_reader_signature_count(r);

        if (nsig == 0)
            printf("%s: OK: every digest holds (not signed)\n", path);
        else
            printf("%s: OK: every digest holds (%u signature%s not checked: no --key)\n", path,
                   nsig, nsig == 1 ? "" : "s");
    }
    vmp_reader_destroy(r);
    return CLI_OK;
}
