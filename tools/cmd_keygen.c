/*
 * cmd_keygen.c - `vmpack keygen -o NAME`: an Ed25519 key pair in the text
 * files NAME.key (mode 0600) and NAME.pub (spec/container.md 7.2).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <vmpack/sign.h>

static void help(void)
{
    printf("usage: vmpack keygen -o NAME [--force]\n\n"
           "Make an Ed25519 key pair: NAME.key, the secret key (mode 0600; keep it\n"
           "private), and NAME.pub, the public key to give to whoever verifies.\n"
           "Prints the key id. Refuses to overwrite existing files unless --force.\n\n"
           "  -o, --output NAME  the two files' name without extension\n"
           "  -f, --force        overwrite existing key files\n"
           "  -h, --help         show this help\n");
}

static int write_file(const char *path, const char *text, mode_t mode, int force)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
    size_t len = strlen(text), done = 0;
    int fd = open(path, flags, mode);

    if (fd < 0)
        return cli_error(path, "%s%s", strerror(errno),
                         errno == EEXIST ? " (use --force to replace it)" : "");
    if (fchmod(fd, mode) != 0) {
        cli_error(path, "%s", strerror(errno));
        close(fd);
        return CLI_FAIL;
    }
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_error(path, "%s", strerror(errno));
            close(fd);
            return CLI_FAIL;
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0)
        return cli_error(path, "%s", strerror(errno));
    return 0;
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *name = NULL;
    struct vmp_secret_key sk;
    struct vmp_public_key pk;
    char sk_text[VMP_KEY_TEXT_MAX], pk_text[VMP_KEY_TEXT_MAX], id[VMP_KEY_ID_TEXT];
    char *sk_path = NULL, *pk_path = NULL;
    int c, force = 0, ret = CLI_FAIL, rc;

    while ((c = getopt_long(argc, argv, ":o:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': name = optarg; break;
        case 'f': force = 1; break;
        case 'h': help(); return CLI_OK;
        default: return cli_bad_option("keygen", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage("keygen", "unexpected argument '%s'", argv[optind]);
    if (name == NULL || name[0] == '\0')
        return cli_usage("keygen", "-o NAME is required");
    sk_path = malloc(strlen(name) + 5);
    pk_path = malloc(strlen(name) + 5);
    if (sk_path == NULL || pk_path == NULL) {
        cli_error("keygen", "out of memory");
        goto out;
    }
    sprintf(sk_path, "%s.key", name);
    sprintf(pk_path, "%s.pub", name);
    rc = vmp_key_generate(&sk, &pk);
    if (rc != 0) {
        cli_error("keygen", "%s", vmp_strerror(rc));
        goto out;
    }
    if (vmp_key_secret_to_text(&sk, sk_text, sizeof sk_text) != 0 ||
        vmp_key_public_to_text(&pk, pk_text, sizeof pk_text) != 0) {
        cli_error("keygen", "cannot encode the key");
        goto out;
    }
    if (write_file(sk_path, sk_text, 0600, force) != 0)
        goto out;
    if (write_file(pk_path, pk_text, 0644, force) != 0) {
        unlink(sk_path);
        goto out;
    }
    vmp_key_id(&pk, id);
    printf("key %s: secret %s, public %s\n", id, sk_path, pk_path);
    ret = CLI_OK;
out:
    sodium_memzero(&sk, sizeof sk);
    sodium_memzero(sk_text, sizeof sk_text);
    free(sk_path);
    free(pk_path);
    return ret;
}
