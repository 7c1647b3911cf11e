/*
 * cmd_export_disk.c - `vmpack export-disk FILE N -o RAW`: a container's
 * disk back as a raw image, byte for byte what was packed.
 */
#include "cli.h"
#include "cli_container.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void help(void)
{
    printf("usage: vmpack export-disk FILE DISK -o RAW [--progress]\n\n"
           "Write disk DISK of the container (0 for the first disk, 1 for the\n"
           "second, ...; or an image name such as disk0 or ram) to RAW as a raw\n"
           "image. Every chunk's digest is checked as it is read. A regular RAW is\n"
           "written to a temporary file, sparse where chunks are zero, and renamed\n"
           "into place at the end; -o - writes to standard output.\n\n"
           "  -o, --output FILE  the raw image to write, or - for stdout\n"
           "      --progress     show progress even when stderr is not a terminal\n"
           "  -h, --help         show this help\n");
}

struct sink {
    int fd;
    int seekable;
    const char *path;
    struct cli_progress *prog;
    uint64_t done;
    int err;
};

static int all_zero(const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static int sink_write(void *ctx, uint64_t offset_bytes, const void *data, size_t len)
{
    struct sink *s = ctx;
    size_t done = 0;

    if (s->seekable && all_zero(data, len))
        goto ok; /* a hole: ftruncate at the end gives the size */
    while (done < len) {
        ssize_t n = s->seekable
                        ? pwrite(s->fd, (const char *)data + done, len - done,
                                 (off_t)(offset_bytes + done))
                        : write(s->fd, (const char *)data + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s->err = errno;
            return -1;
        }
        done += (size_t)n;
    }
ok:
    s->done += len;
    cli_progress_update(s->prog, s->done);
    return 0;
}

int cmd_export_disk(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"progress", no_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL, *path;
    struct vmp_image_info info;
    struct cli_progress prog;
    struct sink s;
    vmp_reader *r = NULL;
    unsigned image;
    char *tmp = NULL;
    int c, rc, fd = -1, progress = 0, ret = CLI_FAIL;

    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'P': progress = 1; break;
        case 'h': help(); return CLI_OK;
        default: return cli_bad_option("export-disk", c, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage("export-disk", "expected a container file and a disk number");
    if (out == NULL)
        return cli_usage("export-disk", "-o RAW is required");
    path = argv[optind];
    r = cli_open(path);
    if (r == NULL)
        return CLI_FAIL;
    if (cli_find_disk(r, path, argv[optind + 1], &image) != 0)
        goto out;
    if (vmp_reader_image_info(r, image, &info) != 0) {
        cli_error_lib(path, vmp_reader_errmsg(r), VMP_ERR_FORMAT);
        goto out;
    }
    memset(&s, 0, sizeof s);
    if (strcmp(out, "-") == 0) {
        fd = STDOUT_FILENO;
    } else {
        tmp = malloc(strlen(out) + 32);
        if (tmp == NULL) {
            cli_error("export-disk", "out of memory");
            goto out;
        }
        sprintf(tmp, "%s.vmpack-tmp.XXXXXX", out);
        fd = mkstemp(tmp);
        if (fd < 0) {
            cli_error(out, "cannot make a temporary file: %s", strerror(errno));
            free(tmp);
            tmp = NULL;
            goto out;
        }
        s.seekable = 1;
    }
    s.fd = fd;
    s.path = out;
    s.prog = &prog;
    cli_progress_begin(&prog, "exporting", info.size_bytes, progress);
    rc = vmp_reader_export_image_cb(r, image, sink_write, &s);
    cli_progress_end(&prog);
    if (rc == VMP_ERR_CALLBACK && s.err != 0) {
        cli_error(out, "%s", strerror(s.err));
        goto out;
    }
    if (rc != 0) {
        cli_error_lib(path, vmp_reader_errmsg(r), VMP_ERR_FORMAT);
        goto out;
    }
    if (s.seekable) {
        mode_t mask = umask(0);

        umask(mask); /* mkstemp made it 0600; give it what open(2) would */
        if (ftruncate(fd, (off_t)info.size_bytes) != 0 || fchmod(fd, 0666 & ~mask) != 0 ||
            fsync(fd) != 0) {
            cli_error(out, "%s", strerror(errno));
            goto out;
        }
        if (close(fd) != 0) {
            fd = -1;
            cli_error(out, "%s", strerror(errno));
            goto out;
        }
        fd = -1;
        if (rename(tmp, out) != 0) {
            cli_error(out, "%s", strerror(errno));
            goto out;
        }
        free(tmp);
        tmp = NULL;
    }
    ret = CLI_OK;
out:
    if (fd >= 0 && fd != STDOUT_FILENO)
        close(fd);
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    vmp_reader_destroy(r);
    return ret;
}
