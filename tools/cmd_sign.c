/*
 * cmd_sign.c - `vmpack sign FILE --key NAME.key`: checks the container,
 * then adds an Ed25519 signature over its manifest digest, rewriting the
 * file atomically (spec/container.md 7).
 */
#include "cli.h"
#include "cli_container.h"

#include <getopt.h>

#include <sodium.h>

static void help(void)
{
    printf("usage: vmpack sign FILE --key NAME.key\n\n"
           "Verify the container, then add an Ed25519 signature by the key over its\n"
           "manifest digest. The file is replaced atomically; blobs and earlier\n"
           "signatures are kept; signing again with the same key replaces that\n"
           "key's signature.\n\n"
           "  -k, --key FILE  a secret key (NAME.key from `vmpack keygen`)\n"
           "  -h, --help      show this help\n");
}

int cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *path;
    struct vmp_secret_key sk;
    struct vmp_public_key pk;
    char err[512], id[VMP_KEY_ID_TEXT];
    int c, rc;

    while ((c = getopt_long(argc, argv, ":k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key_path = optarg; break;
        case 'h': help(); return CLI_OK;
        default: return cli_bad_option("sign", c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage("sign", "expected one container file");
    if (key_path == NULL)
        return cli_usage("sign", "--key NAME.key is required");
    path = argv[optind];
    if (cli_load_secret_key(key_path, &sk) != 0)
        return CLI_FAIL;
    err[0] = '\0';
    rc = vmp_container_sign(path, &sk, err, sizeof err);
    vmp_key_public_from_secret(&sk, &pk);
    sodium_memzero(&sk, sizeof sk);
    if (rc != 0)
        return cli_error_lib(path, err, rc);
    vmp_key_id(&pk, id);
    printf("%s: signed by key %s\n", path, id);
    return CLI_OK;
}
