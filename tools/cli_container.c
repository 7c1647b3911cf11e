/*
 * cli_container.c - opening containers and key files (see cli_container.h).
 */
#include "cli.h"
#include "cli_container.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

vmp_reader *cli_open(const char *path)
{
    vmp_reader *r = NULL;
    int rc = vmp_reader_create(&r);

    if (rc != 0) {
        cli_error(path, "%s", vmp_strerror(rc));
        return NULL;
    }
    rc = vmp_reader_open(r, path);
    if (rc != 0) {
        cli_error_lib(path, vmp_reader_errmsg(r), rc);
        vmp_reader_destroy(r);
        return NULL;
    }
    return r;
}

int cli_find_disk(const vmp_reader *r, const char *path, const char *arg, unsigned *image)
{
    unsigned n = vmp_reader_image_count(r), i, ndisks = 0;
    uint64_t want;
    struct vmp_image_info info;

    if (cli_parse_uint(arg, UINT32_MAX, &want) == 0) {
        for (i = 0; i < n; i++) {
            if (vmp_reader_image_info(r, i, &info) != 0 || info.kind != VMP_IMAGE_DISK)
                continue;
            if (ndisks++ == want) {
                *image = i;
                return 0;
            }
        }
        cli_error(path, "no disk %s (the container has %u disk%s)", arg, ndisks,
                  ndisks == 1 ? "" : "s");
        return -1;
    }
    if (vmp_reader_image_find(r, arg, image) == 0)
        return 0;
    cli_error(path, "no image named '%s'", arg);
    return -1;
}

int cli_load_public_key(const char *path, struct vmp_public_key *pk)
{
    struct vmp_secret_key sk;
    char err[256], err2[256];
    size_t len;
    char *text = cli_read_small_file(path, 4096, &len);
    int rc = CLI_FAIL;

    if (text == NULL)
        return CLI_FAIL;
    if (vmp_key_public_from_text(text, len, pk, err, sizeof err) == 0) {
        rc = 0;
    } else if (vmp_key_secret_from_text(text, len, &sk, err2, sizeof err2) == 0) {
        vmp_key_public_from_secret(&sk, pk);
        sodium_memzero(&sk, sizeof sk);
        rc = 0;
    } else {
        cli_error(path, "not a vmpack public key: %s", err);
    }
    sodium_memzero(text, len);
    free(text);
    return rc;
}

int cli_load_secret_key(const char *path, struct vmp_secret_key *sk)
{
    char err[256];
    size_t len;
    char *text = cli_read_small_file(path, 4096, &len);
    int rc = CLI_FAIL;

    if (text == NULL)
        return CLI_FAIL;
    if (vmp_key_secret_from_text(text, len, sk, err, sizeof err) == 0)
        rc = 0;
    else
        cli_error(path, "not a vmpack secret key: %s", err);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n, i;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

int cli_utf8_valid(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    while (*s) {
        size_t n = utf8_len(s);

        if (n == 0)
            return 0;
        s += n;
    }
    return 1;
}

void cli_json_str(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    fputc('"', f);
    while (*s) {
        size_t n = utf8_len(s);

        if (n == 0) {
            fputs("\\ufffd", f); /* not UTF-8: JSON must be (RFC 8259 8.1) */
            s++;
        } else if (n > 1) {
            fwrite(s, 1, n, f);
            s += n;
        } else {
            if (*s == '"' || *s == '\\')
                fprintf(f, "\\%c", *s);
            else if (*s == '\n')
                fputs("\\n", f);
            else if (*s == '\t')
                fputs("\\t", f);
            else if (*s < 0x20 || *s == 0x7f)
                fprintf(f, "\\u%04x", *s);
            else
                fputc(*s, f);
            s++;
        }
    }
    fputc('"', f);
}

const char *cli_image_kind(unsigned kind)
{
    switch (kind) {
    case VMP_IMAGE_DISK: return "disk";
    case VMP_IMAGE_RAM: return "ram";
    }
    return "unknown";
}
