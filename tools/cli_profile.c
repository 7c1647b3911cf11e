/*
 * cli_profile.c - the --cpu argument: a built-in profile name or a path to
 * a JSON profile (spec/cpu-profiles.md 5), and describing a profile.
 */
#include "cli.h"
#include "cli_profile.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_profile_load(const char *arg, const char *what, struct vmp_cpu_profile *p)
{
    const char *const *n;
    struct stat st;
    char names[256] = "", err[256];
    char *json;
    size_t len;
    int rc;

    if (vmp_profile_builtin(arg, p) == 0)
        return 0;
    if (strchr(arg, '/') == NULL && strstr(arg, ".json") == NULL && stat(arg, &st) != 0) {
        for (n = vmp_profile_names(); *n; n++) {
            strncat(names, *n, sizeof names - strlen(names) - 1);
            if (n[1])
                strncat(names, ", ", sizeof names - strlen(names) - 1);
        }
        return cli_error(what, "unknown CPU profile '%s' (built in: %s; or give a path to "
                         "a JSON profile)", arg, names);
    }
    json = cli_read_small_file(arg, 1u << 20, &len);
    if (json == NULL)
        return CLI_FAIL;
    rc = vmp_profile_from_json(json, len, p, err, sizeof err);
    free(json);
    if (rc != 0)
        return cli_error(arg, "bad CPU profile: %s", err);
    return 0;
}

size_t cli_profile_features(const struct vmp_cpu_profile *p, char *buf, size_t buflen)
{
    size_t pos = 0, count = 0;
    unsigned word, bit;

    buf[0] = '\0';
    for (word = 0; word < VMP_FW_COUNT; word++) {
        for (bit = 0; bit < 32; bit++) {
            unsigned f = VMP_FEAT(word, bit);
            const char *name;
            char other[24];
            int n;

            if (!vmp_profile_has(p, f))
                continue;
            name = vmp_feat_name(f);
            if (name == NULL) {
                snprintf(other, sizeof other, "w%u.%u", word, bit);
                name = other;
            }
            n = snprintf(buf + pos, buflen - pos, "%s%s", count ? " " : "", name);
            if (n < 0 || (size_t)n >= buflen - pos)
                return count;
            pos += (size_t)n;
            count++;
        }
    }
    return count;
}

void cli_profile_vendor(const struct vmp_cpu_profile *p, char vendor[13])
{
    uint32_t r[4];

    vmp_profile_cpuid(p, 0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
}

void cli_profile_signature(const struct vmp_cpu_profile *p, unsigned *family, unsigned *model,
                           unsigned *stepping)
{
    uint32_t r[4], fam, mod;

    vmp_profile_cpuid(p, 1, 0, r);
    fam = (r[0] >> 8) & 0xf;
    mod = (r[0] >> 4) & 0xf;
    /* SDM 2A CPUID: display family and model */
    if (fam == 0xf)
        fam += (r[0] >> 20) & 0xff;
    if (fam == 0x6 || fam >= 0xf)
        mod |= ((r[0] >> 16) & 0xf) << 4;
    *family = fam;
    *model = mod;
    *stepping = r[0] & 0xf;
}

static void feat_list(const unsigned *miss, size_t n, char *list, size_t listlen)
{
    size_t i;

    list[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *name = vmp_feat_name(miss[i]);
        char other[24];

        if (name == NULL) {
            snprintf(other, sizeof other, "word %u bit %u", VMP_FEAT_WORD(miss[i]),
                     VMP_FEAT_BIT(miss[i]));
            name = other;
        }
        if (i)
            strncat(list, ", ", listlen - strlen(list) - 1);
        strncat(list, name, listlen - strlen(list) - 1);
    }
}

/* A host that has every feature: what is missing against it, only the
 * translator lacks (spec/cpu-profiles.md 4). */
static void all_features(struct vmp_cpu_profile *h)
{
    memset(h, 0, sizeof *h);
    h->leaves[0] = (struct vmp_cpuid_leaf){0, 0, 7, 0, 0, 0};
    h->leaves[1] = (struct vmp_cpuid_leaf){1, 0, 0, 0, ~0u, ~0u};
    h->leaves[2] = (struct vmp_cpuid_leaf){7, 0, 0, ~0u, ~0u, ~0u};
    h->leaves[3] = (struct vmp_cpuid_leaf){0x80000000u, 0, 0x80000001u, 0, 0, 0};
    h->leaves[4] = (struct vmp_cpuid_leaf){0x80000001u, 0, 0, 0, ~0u, ~0u};
    h->nleaves = 5;
}

int cli_profile_check_host(const struct vmp_cpu_profile *p, const char *what, int strict)
{
    struct vmp_cpu_profile host;
    unsigned miss[64];
    size_t n;
    char list[512];

    all_features(&host);
    n = vmp_profile_missing(p, &host, miss, sizeof miss / sizeof miss[0]);
    if (n != 0) {
        feat_list(miss, n < 64 ? n : 64, list, sizeof list);
        return cli_error(what, "profile '%s' has %zu feature%s the translator cannot run: %s",
                         p->name, n, n == 1 ? "" : "s", list);
    }
    if (vmp_profile_read_host(&host) != 0)
        return cli_error(what, "cannot read this host's CPUID");
    n = vmp_profile_missing(p, &host, miss, sizeof miss / sizeof miss[0]);
    if (n == 0)
        return 0;
    feat_list(miss, n < 64 ? n : 64, list, sizeof list);
    if (strict)
        return cli_error(what, "profile '%s' needs %zu feature%s this host lacks: %s", p->name,
                         n, n == 1 ? "" : "s", list);
    fprintf(stderr, "vmpack: warning: %s: this host lacks %s, which profile '%s' needs: the "
            "container will run only on a host that has %s\n", what, list, p->name,
            n == 1 ? "it" : "them");
    return 0;
}
