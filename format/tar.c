/*
 * tar.c - the outer tar of a container (spec/container.md 2): the
 * deterministic ustar header the writer emits, and the reader's member
 * index (names, offsets, sizes; no data is read), which refuses links,
 * devices, unsafe names and sizes that run past the end of the file.
 */
#include "fmt_int.h"

#include <stdio.h>
#include <stdlib.h>

/* POSIX ustar header layout (pax, "ustar Interchange Format"). */
enum {
    H_NAME = 0, H_MODE = 100, H_UID = 108, H_GID = 116, H_SIZE = 124, H_MTIME = 136,
    H_CHKSUM = 148, H_TYPE = 156, H_LINK = 157, H_MAGIC = 257, H_VERSION = 263,
    H_UNAME = 265, H_GNAME = 297, H_DEVMAJ = 329, H_DEVMIN = 337, H_PREFIX = 345,
};

static void octal(uint8_t *f, size_t width, uint64_t v)
{
    /* width-1 octal digits then NUL */
    f[width - 1] = 0;
    for (size_t i = width - 1; i-- > 0;) {
        f[i] = (uint8_t)('0' + (v & 7));
        v >>= 3;
    }
}

static unsigned hdr_sum(const uint8_t h[512])
{
    unsigned s = 0;
    for (int i = 0; i < 512; i++)
        s += (i >= H_CHKSUM && i < H_CHKSUM + 8) ? ' ' : h[i];
    return s;
}

/* spec/container.md 2.1 */
void tar_header(uint8_t h[512], const char *name, uint64_t size, char typeflag)
{
    memset(h, 0, 512);
    memcpy(h + H_NAME, name, strlen(name)); /* callers' names are < 100 bytes */
    octal(h + H_MODE, 8, typeflag == '5' ? 0755 : 0644);
    octal(h + H_UID, 8, 0);
    octal(h + H_GID, 8, 0);
    octal(h + H_SIZE, 12, size);
    octal(h + H_MTIME, 12, 0);
    h[H_TYPE] = (uint8_t)typeflag;
    memcpy(h + H_MAGIC, "ustar", 6);
    memcpy(h + H_VERSION, "00", 2);
    octal(h + H_DEVMAJ, 8, 0);
    octal(h + H_DEVMIN, 8, 0);
    unsigned s = hdr_sum(h);
    /* six octal digits, NUL, space: the historical form every tar accepts */
    octal(h + H_CHKSUM, 7, s);
    h[H_CHKSUM + 7] = ' ';
}

/* A numeric field: octal digits, optionally space/NUL padded. Base-256
 * (high bit set) is refused (spec/container.md 2.2). */
static int parse_octal(const uint8_t *f, size_t width, uint64_t *v)
{
    size_t i = 0;
    *v = 0;
    if (f[0] & 0x80)
        return -1;
    while (i < width && f[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (*v >> 61)
            return -1;
        *v = *v << 3 | (uint64_t)(f[i] - '0');
    }
    for (; i < width; i++)
        if (f[i] != ' ' && f[i] != 0)
            return -1;
    return digits ? 0 : -1;
}

static int is_zero_block(const uint8_t *b)
{
    for (int i = 0; i < 512; i++)
        if (b[i])
            return 0;
    return 1;
}

/* spec/container.md 2.2: drop leading "./", refuse empty, absolute, "..". */
static int normalise_name(char *name, char *msg, uint64_t off)
{
    char *p = name;
    while (p[0] == '.' && p[1] == '/') {
        p += 2;
        while (*p == '/')
            p++;
    }
    memmove(name, p, strlen(p) + 1);
    if (name[0] == 0)
        return fmt_err(msg, VMP_ERR_FORMAT, "tar member at 0x%llx: empty name", (unsigned long long)off);
    if (name[0] == '/')
        return fmt_err(msg, VMP_ERR_FORMAT, "tar member %s at 0x%llx: absolute name refused", name,
                       (unsigned long long)off);
    for (const char *c = name; *c;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return fmt_err(msg, VMP_ERR_FORMAT, "tar member %s at 0x%llx: '..' in name refused",
                           name, (unsigned long long)off);
        c += n;
        if (*c == '/')
            c++;
    }
    return 0;
}

static int classify(const char *name, struct tar_member *m)
{
    if (strcmp(name, "oci-layout") == 0)
        return TAR_OCI_LAYOUT;
    if (strcmp(name, "index.json") == 0)
        return TAR_INDEX_JSON;
    if (strncmp(name, "blobs/sha256/", 13) == 0 && strlen(name) == 13 + 64) {
        char t[VMP_DIGEST_TEXT];
        memcpy(t, "sha256:", 7);
        memcpy(t + 7, name + 13, 65);
        if (vmp_digest_from_text(t, m->digest) == 0)
            return TAR_BLOB;
    }
    return TAR_OTHER;
}

/* Parses a pax extended header's records "<len> <key>=<value>\n". Only
 * path and size are honoured (spec/container.md 2.2). */
static int parse_pax(const char *b, size_t n, char *path, size_t pathlen, int *has_path,
                     uint64_t *size, int *has_size)
{
    size_t i = 0;
    while (i < n) {
        size_t rl = 0, j = i;
        while (j < n && b[j] >= '0' && b[j] <= '9') {
            rl = rl * 10 + (size_t)(b[j] - '0');
            if (rl > n)
                return -1;
            j++;
        }
        if (j == i || j >= n || b[j] != ' ' || rl == 0 || rl > n - i || b[i + rl - 1] != '\n')
            return -1;
        const char *kv = b + j + 1, *end = b + i + rl - 1;
        const char *eq = memchr(kv, '=', (size_t)(end - kv));
        if (!eq)
            return -1;
        size_t kl = (size_t)(eq - kv), vl = (size_t)(end - eq - 1);
        if (kl == 4 && memcmp(kv, "path", 4) == 0) {
            if (vl == 0 || vl >= pathlen || memchr(eq + 1, 0, vl))
                return -1;
            memcpy(path, eq + 1, vl);
            path[vl] = 0;
            *has_path = 1;
        } else if (kl == 4 && memcmp(kv, "size", 4) == 0) {
            uint64_t v = 0;
            if (vl == 0 || vl > 19)
                return -1;
            for (size_t k = 0; k < vl; k++) {
                char c = eq[1 + k];
                if (c < '0' || c > '9')
                    return -1;
                v = v * 10 + (uint64_t)(c - '0');
            }
            *size = v;
            *has_size = 1;
        }
        i += rl;
    }
    return 0;
}

#define PAX_MAX (64u << 10)
#define TAR_MAX_MEMBERS (4u << 20)

int tar_index(int fd, uint64_t file_size, struct tar_member **out, size_t *nout, char *msg)
{
    struct tar_member *v = NULL;
    size_t n = 0, cap = 0, total = 0;
    char *pax = NULL;
    int rc = 0;
    uint64_t off = 0;
    char pax_path[1024];
    int has_pax_path = 0, has_pax_size = 0;
    uint64_t pax_size = 0, first_hdr = 0;
    int in_pax = 0;

    *out = NULL;
    *nout = 0;
    for (;;) {
        uint8_t h[512];
        if (off == file_size)
            break; /* spec/container.md 2.2: end of file at a header boundary */
        if (file_size - off < 512) {
            rc = fmt_err(msg, VMP_ERR_TRUNCATED, "tar header at 0x%llx: file ends after %llu bytes",
                         (unsigned long long)off, (unsigned long long)(file_size - off));
            goto out;
        }
        if ((rc = fmt_pread_full(fd, h, 512, off, msg, "tar header")))
            goto out;
        if (is_zero_block(h)) {
            if (in_pax) {
                rc = fmt_err(msg, VMP_ERR_FORMAT, "tar at 0x%llx: pax header not followed by a member",
                             (unsigned long long)off);
                goto out;
            }
            break;
        }
        if (memcmp(h + H_MAGIC, "ustar", 5) != 0) {
            rc = fmt_err(msg, VMP_ERR_FORMAT, "tar header at 0x%llx: no ustar magic",
                         (unsigned long long)off);
            goto out;
        }
        uint64_t sum;
        if (parse_octal(h + H_CHKSUM, 8, &sum) || sum != hdr_sum(h)) {
            rc = fmt_err(msg, VMP_ERR_FORMAT, "tar header at 0x%llx: checksum is %llu, header sums to %u",
                         (unsigned long long)off, (unsigned long long)sum, hdr_sum(h));
            goto out;
        }
        char name[1024];
        size_t pl = strnlen((const char *)h + H_PREFIX, 155);
        size_t nl = strnlen((const char *)h + H_NAME, 100);
        if (pl) {
            memcpy(name, h + H_PREFIX, pl);
            name[pl] = '/';
            memcpy(name + pl + 1, h + H_NAME, nl);
            name[pl + 1 + nl] = 0;
        } else {
            memcpy(name, h + H_NAME, nl);
            name[nl] = 0;
        }
        uint64_t size;
        if (parse_octal(h + H_SIZE, 12, &size)) {
            rc = fmt_err(msg, VMP_ERR_FORMAT, "tar member %s at 0x%llx: size field is not octal",
                         name, (unsigned long long)off);
            goto out;
        }
        char type = (char)h[H_TYPE];
        if (has_pax_path) {
            memcpy(name, pax_path, strlen(pax_path) + 1);
            has_pax_path = 0;
        }
        if (has_pax_size) {
            size = pax_size;
            has_pax_size = 0;
        }
        uint64_t data = off + 512;
        if (size > file_size - data) {
            rc = fmt_err(msg, VMP_ERR_TRUNCATED,
                         "tar member %s at 0x%llx: size %llu runs past end of file (%llu bytes)",
                         name, (unsigned long long)off, (unsigned long long)size,
                         (unsigned long long)file_size);
            goto out;
        }
        uint64_t next = data + ((size + 511) & ~(uint64_t)511);
        if (next > file_size) {
            rc = fmt_err(msg, VMP_ERR_TRUNCATED, "tar member %s at 0x%llx: file ends inside its padding",
                         name, (unsigned long long)off);
            goto out;
        }
        if (!in_pax)
            first_hdr = off;
        if (type == 'x' || type == 'g') {
            if (size > PAX_MAX) {
                rc = fmt_err(msg, VMP_ERR_LIMIT, "pax header at 0x%llx: %llu bytes, limit %u",
                             (unsigned long long)off, (unsigned long long)size, PAX_MAX);
                goto out;
            }
            if (type == 'x') {
                free(pax);
                pax = malloc(size ? size : 1);
                if (!pax) {
                    rc = fmt_err(msg, VMP_ERR_NOMEM, "pax header: out of memory");
                    goto out;
                }
                if ((rc = fmt_pread_full(fd, pax, size, data, msg, "pax header")))
                    goto out;
                if (parse_pax(pax, size, pax_path, sizeof pax_path, &has_pax_path, &pax_size,
                              &has_pax_size)) {
                    rc = fmt_err(msg, VMP_ERR_FORMAT, "pax header at 0x%llx: malformed record",
                                 (unsigned long long)off);
                    goto out;
                }
                in_pax = 1;
            }
            off = next;
            continue;
        }
        in_pax = 0;
        if ((rc = normalise_name(name, msg, off)))
            goto out;
        if (type == '5') {
            off = next;
            continue;
        }
        if (type != '0' && type != 0 && type != '7') {
            const char *what = type == '1' ? "hard link" : type == '2' ? "symbolic link"
                             : type == 'L' || type == 'K' ? "GNU long name" : "special file";
            rc = fmt_err(msg, VMP_ERR_FORMAT, "tar member %s at 0x%llx: %s (type '%c') refused", name,
                         (unsigned long long)off, what, type >= 0x20 && type < 0x7f ? type : '?');
            goto out;
        }
        if (++total > TAR_MAX_MEMBERS) {
            rc = fmt_err(msg, VMP_ERR_LIMIT, "tar: more than %u members", TAR_MAX_MEMBERS);
            goto out;
        }
        struct tar_member m = {0};
        m.kind = classify(name, &m);
        m.hdr_off = first_hdr;
        m.data_off = data;
        m.size = size;
        if (m.kind != TAR_OTHER) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                struct tar_member *t = realloc(v, nc * sizeof *t);
                if (!t) {
                    rc = fmt_err(msg, VMP_ERR_NOMEM, "tar index: out of memory");
                    goto out;
                }
                v = t;
                cap = nc;
            }
            v[n++] = m;
        }
        off = next;
    }
    *out = v;
    *nout = n;
    v = NULL;
out:
    free(v);
    free(pax);
    return rc;
}
