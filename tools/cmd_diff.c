/*
 * cmd_diff.c - `vmpack diff A B`: which config fields, boot files,
 * sections and image chunks differ between two containers. Chunks are
 * compared by the digest of their uncompressed bytes, so two containers
 * written at different zstd levels still compare equal where the data is.
 */
#include "cli.h"
#include "cli_container.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

static void help(void)
{
    printf("usage: vmpack diff A B [--exit-code]\n\n"
           "Compare two containers and print one line per difference: config fields\n"
           "(power, memory, CPU profile and leaves, command line, devices), kernel\n"
           "and initrd, images (size, chunk size, and each run of differing chunks\n"
           "by index and offset) and sections (present, version, flags, content).\n"
           "Prints \"identical\" when there is no difference.\n\n"
           "      --exit-code  exit 1 when the containers differ (as diff(1) does)\n"
           "  -h, --help       show this help\n");
}

struct ctx {
    unsigned ndiff;
};

static void say(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct ctx *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    c->ndiff++;
}

static void diff_config(struct ctx *c, const struct vmp_config *a, const struct vmp_config *b)
{
    unsigned i, n;

    if (a->format_version != b->format_version)
        say(c, "config.format_version: %u -> %u", a->format_version, b->format_version);
    if (a->power != b->power)
        say(c, "config.power: %u -> %u", a->power, b->power);
    if (a->mem_bytes != b->mem_bytes)
        say(c, "config.memory: %" PRIu64 " -> %" PRIu64, a->mem_bytes, b->mem_bytes);
    if (strcmp(a->cpu.name, b->cpu.name) != 0)
        say(c, "config.cpu.name: %s -> %s", a->cpu.name, b->cpu.name);
    if (a->cpu.nleaves != b->cpu.nleaves ||
        memcmp(a->cpu.leaves, b->cpu.leaves, a->cpu.nleaves * sizeof a->cpu.leaves[0]) != 0) {
        n = a->cpu.nleaves > b->cpu.nleaves ? a->cpu.nleaves : b->cpu.nleaves;
        say(c, "config.cpu.leaves: differ");
        for (i = 0; i < n; i++) {
            const struct vmp_cpuid_leaf *x = i < a->cpu.nleaves ? &a->cpu.leaves[i] : NULL;
            const struct vmp_cpuid_leaf *y = i < b->cpu.nleaves ? &b->cpu.leaves[i] : NULL;

            if (x && y && memcmp(x, y, sizeof *x) == 0)
                continue;
            if (x)
                printf("  - leaf 0x%x.%x: %08x %08x %08x %08x\n", x->leaf, x->subleaf, x->eax,
                       x->ebx, x->ecx, x->edx);
            if (y)
                printf("  + leaf 0x%x.%x: %08x %08x %08x %08x\n", y->leaf, y->subleaf, y->eax,
                       y->ebx, y->ecx, y->edx);
        }
    }
    if (strcmp(a->cmdline, b->cmdline) != 0)
        say(c, "config.cmdline: \"%s\" -> \"%s\"", a->cmdline, b->cmdline);
    n = a->ndevices > b->ndevices ? a->ndevices : b->ndevices;
    for (i = 0; i < n; i++) {
        const struct vmp_device *x = i < a->ndevices ? &a->devices[i] : NULL;
        const struct vmp_device *y = i < b->ndevices ? &b->devices[i] : NULL;

        if (x && y && memcmp(x, y, sizeof *x) == 0)
            continue;
        say(c, "config.devices[%u]: %s%s%s -> %s%s%s", i, x ? x->id : "(none)", x ? " " : "",
            x ? x->kind : "", y ? y->id : "(none)", y ? " " : "", y ? y->kind : "");
    }
}

static void diff_boot(struct ctx *c, vmp_reader *a, vmp_reader *b)
{
    int which;

    for (which = 0; which < 2; which++) {
        const char *name = which ? "initrd" : "kernel";
        uint8_t da[VMP_DIGEST_BYTES], db[VMP_DIGEST_BYTES];
        uint64_t sa = 0, sb = 0;
        int pa = 0, pb = 0;

        if (vmp_reader_boot_info(a, which, &pa, &sa, da) != 0)
            pa = 0;
        if (vmp_reader_boot_info(b, which, &pb, &sb, db) != 0)
            pb = 0;
        if (pa != pb)
            say(c, "%s: %s -> %s", name, pa ? "present" : "absent", pb ? "present" : "absent");
        else if (pa && memcmp(da, db, sizeof da) != 0)
            say(c, "%s: content differs (%" PRIu64 " -> %" PRIu64 " bytes)", name, sa, sb);
    }
}

static void say_run(struct ctx *c, const char *name, uint64_t first, uint64_t last,
                    uint32_t chunk_bytes)
{
    if (first == last)
        say(c, "image %s: chunk %" PRIu64 " differs (offset 0x%" PRIx64 ")", name, first,
            first * chunk_bytes);
    else
        say(c, "image %s: chunks %" PRIu64 "-%" PRIu64 " differ (offsets 0x%" PRIx64
            "-0x%" PRIx64 ")", name, first, last, first * chunk_bytes,
            (last + 1) * chunk_bytes - 1);
}

static int chunks_equal(const struct vmp_chunk_info *x, const struct vmp_chunk_info *y)
{
    if (x->size_bytes != y->size_bytes || x->zero != y->zero)
        return 0;
    return x->zero || memcmp(x->udigest, y->udigest, sizeof x->udigest) == 0;
}

static int diff_image(struct ctx *c, vmp_reader *a, vmp_reader *b, unsigned ia, unsigned ib)
{
    struct vmp_image_info x, y;
    uint64_t i, n, run_start = 0, ndiff = 0;
    int in_run = 0;

    if (vmp_reader_image_info(a, ia, &x) != 0 || vmp_reader_image_info(b, ib, &y) != 0)
        return -1;
    if (x.kind != y.kind)
        say(c, "image %s: kind %s -> %s", x.name, cli_image_kind(x.kind), cli_image_kind(y.kind));
    if (x.size_bytes != y.size_bytes)
        say(c, "image %s: size %" PRIu64 " -> %" PRIu64, x.name, x.size_bytes, y.size_bytes);
    if (x.chunk_bytes != y.chunk_bytes) {
        say(c, "image %s: chunk size %u -> %u (chunks not compared)", x.name, x.chunk_bytes,
            y.chunk_bytes);
        return 0;
    }
    n = x.nchunks > y.nchunks ? x.nchunks : y.nchunks;
    for (i = 0; i < n; i++) {
        struct vmp_chunk_info cx, cy;
        int same;

        memset(&cx, 0, sizeof cx);
        memset(&cy, 0, sizeof cy);
        if (i < x.nchunks && vmp_reader_chunk_info(a, ia, i, &cx) != 0)
            return -1;
        if (i < y.nchunks && vmp_reader_chunk_info(b, ib, i, &cy) != 0)
            return -1;
        same = i < x.nchunks && i < y.nchunks && chunks_equal(&cx, &cy);
        if (!same) {
            ndiff++;
            if (!in_run) {
                in_run = 1;
                run_start = i;
            }
        } else if (in_run) {
            say_run(c, x.name, run_start, i - 1, x.chunk_bytes);
            in_run = 0;
        }
    }
    if (in_run)
        say_run(c, x.name, run_start, n - 1, x.chunk_bytes);
    if (ndiff != 0)
        printf("image %s: %" PRIu64 " of %" PRIu64 " chunks differ\n", x.name, ndiff, n);
    return 0;
}

static int diff_images(struct ctx *c, vmp_reader *a, vmp_reader *b, const char *pa,
                       const char *pb)
{
    unsigned na = vmp_reader_image_count(a), nb = vmp_reader_image_count(b), i, j;
    struct vmp_image_info info;

    for (i = 0; i < na; i++) {
        if (vmp_reader_image_info(a, i, &info) != 0)
            return cli_error_lib(pa, vmp_reader_errmsg(a), VMP_ERR_FORMAT);
        if (vmp_reader_image_find(b, info.name, &j) != 0) {
            say(c, "image %s: only in %s", info.name, pa);
            continue;
        }
        if (diff_image(c, a, b, i, j) != 0)
            return cli_error("diff", "reading image %s: %s / %s", info.name,
                             vmp_reader_errmsg(a), vmp_reader_errmsg(b));
    }
    for (j = 0; j < nb; j++) {
        if (vmp_reader_image_info(b, j, &info) != 0)
            return cli_error_lib(pb, vmp_reader_errmsg(b), VMP_ERR_FORMAT);
        if (vmp_reader_image_find(a, info.name, &i) != 0)
            say(c, "image %s: only in %s", info.name, pb);
    }
    return 0;
}

static void diff_sections(struct ctx *c, vmp_reader *a, vmp_reader *b, const char *pa,
                          const char *pb)
{
    unsigned na = vmp_reader_section_count(a), nb = vmp_reader_section_count(b), i, j;
    struct vmp_section_info x, y;

    for (i = 0; i < na; i++) {
        if (vmp_reader_section_info(a, i, &x) != 0)
            continue;
        if (vmp_reader_section_find(b, x.id, &j) != 0 || vmp_reader_section_info(b, j, &y) != 0) {
            say(c, "section %s: only in %s", x.id, pa);
            continue;
        }
        if (x.version != y.version)
            say(c, "section %s: version %u -> %u", x.id, x.version, y.version);
        if (x.flags != y.flags)
            say(c, "section %s: flags 0x%x -> 0x%x", x.id, x.flags, y.flags);
        if (memcmp(x.digest, y.digest, sizeof x.digest) != 0)
            say(c, "section %s: content differs (%" PRIu64 " -> %" PRIu64 " bytes)", x.id,
                x.size_bytes, y.size_bytes);
    }
    for (j = 0; j < nb; j++) {
        if (vmp_reader_section_info(b, j, &y) != 0)
            continue;
        if (vmp_reader_section_find(a, y.id, &i) != 0)
            say(c, "section %s: only in %s", y.id, pb);
    }
}

int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {{"exit-code", no_argument, NULL, 'e'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    vmp_reader *a = NULL, *b = NULL;
    struct ctx ctx = {0};
    int c, exit_code = 0, ret = CLI_FAIL;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': exit_code = 1; break;
        case 'h': help(); return CLI_OK;
        default: return cli_bad_option("diff", c, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage("diff", "expected two container files");
    a = cli_open(argv[optind]);
    if (a == NULL)
        goto out;
    b = cli_open(argv[optind + 1]);
    if (b == NULL)
        goto out;
    diff_config(&ctx, vmp_reader_config(a), vmp_reader_config(b));
    diff_boot(&ctx, a, b);
    if (diff_images(&ctx, a, b, argv[optind], argv[optind + 1]) != 0)
        goto out;
    diff_sections(&ctx, a, b, argv[optind], argv[optind + 1]);
    if (ctx.ndiff == 0)
        printf("identical\n");
    ret = (exit_code && ctx.ndiff != 0) ? 1 : CLI_OK;
out:
    vmp_reader_destroy(a);
    vmp_reader_destroy(b);
    return ret;
}
