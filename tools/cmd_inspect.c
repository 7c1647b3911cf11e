/*
 * cmd_inspect.c - `vmpack inspect FILE [--json]`: the hardware, the CPU
 * profile, the power state, chunk and size statistics, sections and
 * signatures of a container.
 */
#include "cli.h"
#include "cli_container.h"
#include "cli_det.h"
#include "cli_profile.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf("usage: vmpack inspect FILE [--json]\n\n"
           "Show what a container holds: memory, CPU profile (name, vendor, family,\n"
           "features), devices, boot files, power state, the mode (real time, or\n"
           "deterministic with its seed and RTC start), every image with its chunk\n"
           "statistics (stored, zero, deduplicated, compressed), sections and\n"
           "signatures. Reading checks the digests of the metadata it parses; use\n"
           "`vmpack verify` to check every blob.\n\n"
           "  --json     print one JSON object instead of text\n"
           "  -h, --help show this help\n");
}

static const char *power_name(uint32_t p)
{
    return p == VMP_POWER_OFF ? "off" : p == VMP_POWER_SUSPENDED ? "suspended" : "unknown";
}

struct boot {
    int present;
    uint64_t size;
    char digest[VMP_DIGEST_TEXT];
};

static void get_boot(vmp_reader *r, int which, struct boot *b)
{
    uint8_t d[VMP_DIGEST_BYTES];

    memset(b, 0, sizeof *b);
    if (vmp_reader_boot_info(r, which, &b->present, &b->size, d) == 0 && b->present)
        vmp_digest_to_text(d, b->digest);
    else
        b->present = 0;
}

/* spec/machine.md 7: the "vm.determinism" section decides the mode. */
static void text_det(vmp_reader *r)
{
    struct vmp_det d;
    char err[512], t[32], seed[2 * VMP_DET_SEED_BYTES + 1];
    int rc = cli_det_read(r, &d, err, sizeof err);

    if (rc == 0) {
        printf("mode:       real time\n");
        return;
    }
    if (rc < 0) {
        printf("mode:       deterministic (unreadable: %s)\n", err);
        return;
    }
    for (unsigned i = 0; i < VMP_DET_SEED_BYTES; i++)
        snprintf(seed + 2 * i, 3, "%02x", d.seed[i]);
    cli_det_fmt_time(d.rtc_unix_seconds, t, sizeof t);
    printf("mode:       deterministic, %u ns per instruction, RTC from %s\n", d.ns_per_insn, t);
    printf("seed:       %s\n", seed);
    if (d.icount != 0 || d.clock_ns != 0)
        printf("clock:      %.6f s of guest time, %llu instructions\n",
               (double)d.clock_ns / 1e9, (unsigned long long)d.icount);
}

static void json_det(vmp_reader *r)
{
    struct vmp_det d;
    char err[512], t[32];
    int rc = cli_det_read(r, &d, err, sizeof err);

    printf("  \"determinism\": ");
    if (rc == 0) {
        printf("null,\n");
        return;
    }
    if (rc < 0) {
        printf("{\"error\": ");
        cli_json_str(stdout, err);
        printf("},\n");
        return;
    }
    cli_det_fmt_time(d.rtc_unix_seconds, t, sizeof t);
    printf("{\"ns_per_insn\": %u, \"seed\": \"", d.ns_per_insn);
    for (unsigned i = 0; i < VMP_DET_SEED_BYTES; i++)
        printf("%02x", d.seed[i]);
    printf("\", \"rtc_unix_seconds\": %lld, \"rtc\": \"%s\", \"clock_ns\": %llu, "
           "\"icount\": %llu},\n",
           (long long)d.rtc_unix_seconds, t, (unsigned long long)d.clock_ns,
           (unsigned long long)d.icount);
}

static void text_out(vmp_reader *r, const char *path)
{
    const struct vmp_config *cfg = vmp_reader_config(r);
    struct vmp_container_stats cs;
    struct boot boot[2];
    char a[32], b[32], vendor[13], feats[2048], dg[VMP_DIGEST_TEXT];
    unsigned fam, mod, step, i, n;
    uint8_t md[VMP_DIGEST_BYTES];

    memset(&cs, 0, sizeof cs);
    vmp_reader_stats(r, &cs);
    printf("file:       %s (%s, %llu blobs)\n", path, cli_fmt_size(cs.file_bytes, a, sizeof a),
           (unsigned long long)cs.blobs);
    printf("format:     version %u\n", cfg->format_version);
    printf("power:      %s\n", power_name(cfg->power));
    text_det(r);
    printf("memory:     %s\n", cli_fmt_size(cfg->mem_bytes, a, sizeof a));
    cli_profile_vendor(&cfg->cpu, vendor);
    cli_profile_signature(&cfg->cpu, &fam, &mod, &step);
    cli_profile_features(&cfg->cpu, feats, sizeof feats);
    printf("cpu:        %s (%s family %u model %u stepping %u, %u CPUID leaves)\n",
           cfg->cpu.name, vendor, fam, mod, step, cfg->cpu.nleaves);
    printf("features:   %s\n", feats);
    printf("cmdline:    %s\n", cfg->cmdline[0] ? cfg->cmdline : "(none)");
    get_boot(r, VMP_BOOT_KERNEL, &boot[0]);
    get_boot(r, VMP_BOOT_INITRD, &boot[1]);
    for (i = 0; i < 2; i++) {
        if (boot[i].present)
            printf("%-11s %s %s\n", i ? "initrd:" : "kernel:",
                   cli_fmt_size(boot[i].size, a, sizeof a), boot[i].digest);
        else
            printf("%-11s (none)\n", i ? "initrd:" : "kernel:");
    }
    printf("devices:   ");
    for (i = 0; i < cfg->ndevices; i++) {
        const struct vmp_device *d = &cfg->devices[i];

        printf(" %s (%s%s%s)%s", d->id, d->kind, d->image[0] ? ", image " : "", d->image,
               i + 1 < cfg->ndevices ? "," : "");
    }
    printf("%s\n", cfg->ndevices ? "" : " (none)");
    n = vmp_reader_image_count(r);
    printf("images:     %u\n", n);
    for (i = 0; i < n; i++) {
        struct vmp_image_info info;
        struct vmp_image_stats st;

        if (vmp_reader_image_info(r, i, &info) != 0 || vmp_reader_image_stats(r, i, &st) != 0)
            continue;
        printf("  %s: %s, %s, chunk %s\n", info.name, cli_image_kind(info.kind),
               cli_fmt_size(info.size_bytes, a, sizeof a),
               cli_fmt_size(info.chunk_bytes, b, sizeof b));
        printf("    chunks: %llu total, %llu stored, %llu zero, %llu deduplicated\n",
               (unsigned long long)st.chunks_total, (unsigned long long)st.chunks_stored,
               (unsigned long long)st.chunks_zero, (unsigned long long)st.chunks_dedup);
        printf("    bytes:  %s stored data, %s compressed",
               cli_fmt_size(st.bytes_uncompressed, a, sizeof a),
               cli_fmt_size(st.bytes_compressed, b, sizeof b));
        if (st.bytes_compressed != 0)
            printf(" (%.2fx)", (double)st.bytes_uncompressed / (double)st.bytes_compressed);
        printf("\n");
    }
    n = vmp_reader_section_count(r);
    printf("sections:   %u\n", n);
    for (i = 0; i < n; i++) {
        struct vmp_section_info si;

        if (vmp_reader_section_info(r, i, &si) != 0)
            continue;
        printf("  %s: version %u, %s, %s\n", si.id, si.version,
               (si.flags & VMP_SECTION_REQUIRED) ? "required" : "optional",
               cli_fmt_size(si.size_bytes, a, sizeof a));
    }
    n = vmp_reader_signature_count(r);
    printf("signatures: %u\n", n);
    for (i = 0; i < n; i++) {
        struct vmp_signature_info si;

        if (vmp_reader_signature_info(r, i, &si) == 0)
            printf("  key %s (not checked; use vmpack verify --key)\n", si.key_id);
    }
    vmp_reader_manifest_digest(r, md);
    vmp_digest_to_text(md, dg);
    printf("manifest:   %s\n", dg);
}

#define U(x) ((unsigned long long)(x))

static void json_out(vmp_reader *r, const char *path)
{
    const struct vmp_config *cfg = vmp_reader_config(r);
    struct vmp_container_stats cs;
    struct boot boot;
    char vendor[13], feats[2048], dg[VMP_DIGEST_TEXT];
    unsigned fam, mod, step, i, n;
    uint8_t md[VMP_DIGEST_BYTES];
    char *f, *save = NULL;

    memset(&cs, 0, sizeof cs);
    vmp_reader_stats(r, &cs);
    printf("{\n  \"file\": ");
    cli_json_str(stdout, path);
    printf(",\n  \"file_bytes\": %llu,\n  \"blobs\": %llu,\n  \"blob_bytes\": %llu,\n",
           U(cs.file_bytes), U(cs.blobs), U(cs.blob_bytes));
    printf("  \"format_version\": %u,\n  \"power\": \"%s\",\n  \"memory_bytes\": %llu,\n",
           cfg->format_version, power_name(cfg->power), U(cfg->mem_bytes));
    json_det(r);
    cli_profile_vendor(&cfg->cpu, vendor);
    cli_profile_signature(&cfg->cpu, &fam, &mod, &step);
    cli_profile_features(&cfg->cpu, feats, sizeof feats);
    printf("  \"cpu\": {\"name\": ");
    cli_json_str(stdout, cfg->cpu.name);
    printf(", \"vendor\": ");
    cli_json_str(stdout, vendor);
    printf(", \"family\": %u, \"model\": %u, \"stepping\": %u, \"leaves\": %u, \"features\": [",
           fam, mod, step, cfg->cpu.nleaves);
    for (f = strtok_r(feats, " ", &save), n = 0; f; f = strtok_r(NULL, " ", &save), n++)
        printf("%s\"%s\"", n ? ", " : "", f);
    printf("]},\n  \"cmdline\": ");
    cli_json_str(stdout, cfg->cmdline);
    for (i = 0; i < 2; i++) {
        get_boot(r, (int)i, &boot);
        printf(",\n  \"%s\": ", i ? "initrd" : "kernel");
        if (boot.present)
            printf("{\"bytes\": %llu, \"digest\": \"%s\"}", U(boot.size), boot.digest);
        else
            printf("null");
    }
    printf(",\n  \"devices\": [");
    for (i = 0; i < cfg->ndevices; i++) {
        const struct vmp_device *d = &cfg->devices[i];

        printf("%s\n    {\"id\": ", i ? "," : "");
        cli_json_str(stdout, d->id);
        printf(", \"kind\": ");
        cli_json_str(stdout, d->kind);
        printf(", \"image\": ");
        cli_json_str(stdout, d->image);
        printf("}");
    }
    printf("\n  ],\n  \"images\": [");
    n = vmp_reader_image_count(r);
    for (i = 0; i < n; i++) {
        struct vmp_image_info info;
        struct vmp_image_stats st;

        if (vmp_reader_image_info(r, i, &info) != 0 || vmp_reader_image_stats(r, i, &st) != 0)
            continue;
        printf("%s\n    {\"name\": ", i ? "," : "");
        cli_json_str(stdout, info.name);
        printf(", \"kind\": \"%s\", \"read_only\": %s, \"size_bytes\": %llu, "
               "\"chunk_bytes\": %u,\n     \"chunks_total\": %llu, \"chunks_stored\": %llu, "
               "\"chunks_zero\": %llu, \"chunks_dedup\": %llu,\n     "
               "\"bytes_uncompressed\": %llu, \"bytes_compressed\": %llu}",
               cli_image_kind(info.kind), (info.flags & VMP_IMAGE_READ_ONLY) ? "true" : "false",
               U(info.size_bytes), info.chunk_bytes, U(st.chunks_total), U(st.chunks_stored),
               U(st.chunks_zero), U(st.chunks_dedup), U(st.bytes_uncompressed),
               U(st.bytes_compressed));
    }
    printf("\n  ],\n  \"sections\": [");
    n = vmp_reader_section_count(r);
    for (i = 0; i < n; i++) {
        struct vmp_section_info si;

        if (vmp_reader_section_info(r, i, &si) != 0)
            continue;
        vmp_digest_to_text(si.digest, dg);
        printf("%s\n    {\"id\": ", i ? "," : "");
        cli_json_str(stdout, si.id);
        printf(", \"version\": %u, \"required\": %s, \"bytes\": %llu, \"digest\": \"%s\"}",
               si.version, (si.flags & VMP_SECTION_REQUIRED) ? "true" : "false",
               U(si.size_bytes), dg);
    }
    printf("\n  ],\n  \"signatures\": [");
    n = vmp_reader_signature_count(r);
    for (i = 0; i < n; i++) {
        struct vmp_signature_info si;

        if (vmp_reader_signature_info(r, i, &si) != 0)
            continue;
        printf("%s{\"key_id\": \"%s\"}", i ? ", " : "", si.key_id);
    }
    vmp_reader_manifest_digest(r, md);
    vmp_digest_to_text(md, dg);
    printf("],\n  \"manifest_digest\": \"%s\"\n}\n", dg);
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    vmp_reader *r;
    int json = 0, c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': help(); return CLI_OK;
        default: return cli_bad_option("inspect", c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage("inspect", "expected one container file");
    r = cli_open(argv[optind]);
    if (r == NULL)
        return CLI_FAIL;
    if (json)
        json_out(r, argv[optind]);
    else
        text_out(r, argv[optind]);
    vmp_reader_destroy(r);
    return CLI_OK;
}
