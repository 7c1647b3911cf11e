/*
 * cli_check.c - the host-and-container check of `vmpack check`, `run` and
 * `resume` (cli_check.h, spec/snapshot.md 4, spec/cpu-profiles.md 4).
 */
#include "cli_check.h"

#include <string.h>

#include <vmpack/x86section.h>

#include "cli.h"

/* The sections this vmpack restores: the CPU (spec/container.md 6.3), the
 * board's devices (spec/devices.md 1), the virtual clock (spec/devices.md
 * 8) and deterministic mode's parameters (spec/machine.md). Container
 * section version 1. */
static const struct vmp_section_support check_known[] = {
    {VMP_X86_SECTION_ID, VMP_X86_SECTION_VERSION},
    {"dev.pic", 1},
    {"dev.pit", 1},
    {"dev.rtc", 1},
    {"dev.uart0", 1},
    {"dev.i8042", 1},
    {"dev.virtio-0", 1},
    {"dev.virtio-1", 1},
    {"dev.virtio-2", 1},
    {"dev.virtio-3", 1},
    {"dev.virtio-4", 1},
    {"dev.virtio-5", 1},
    {"dev.acpi-pm", 1},
    {"vm.clock", 1},
    {"vm.determinism", 1},
};

static void check_feat_text(unsigned feat, char *buf, size_t buflen)
{
    const char *name = vmp_feat_name(feat);

    if (name != NULL)
        snprintf(buf, buflen, "%s", name);
    else
        snprintf(buf, buflen, "cpuid word %u bit %u", VMP_FEAT_WORD(feat), VMP_FEAT_BIT(feat));
}

/* Names the profile's features the host lacks; 1 if any (or the host's
 * CPUID cannot be read), else 0. */
static unsigned check_cpu(const char *path, const struct vmp_cpu_profile *p)
{
    struct vmp_cpu_profile host;
    unsigned miss[128];
    size_t n, i, shown;
    char list[2048], one[64];

    if (vmp_profile_read_host(&host) != 0) {
        cli_error(path, "cannot read this host's CPUID");
        return 1;
    }
    n = vmp_profile_missing(p, &host, miss, sizeof miss / sizeof miss[0]);
    if (n == 0)
        return 0;
    shown = n < sizeof miss / sizeof miss[0] ? n : sizeof miss / sizeof miss[0];
    list[0] = '\0';
    for (i = 0; i < shown; i++) {
        check_feat_text(miss[i], one, sizeof one);
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, one, sizeof list - strlen(list) - 1);
    }
    cli_error(path, "CPU profile '%s' has %zu feature%s this host cannot run: %s", p->name, n,
              n == 1 ? "" : "s", list);
    return 1;
}

unsigned cli_check_container(vmp_reader *r, const char *path, unsigned *skipped)
{
    const struct vmp_config *cfg = vmp_reader_config(r);
    unsigned bad = 0, sec, ram_image, skip = 0;
    int rc;

    if (cfg->format_version != VMP_FORMAT_VERSION) {
        cli_error(path, "format version %u, this vmpack reads %u", cfg->format_version,
                  VMP_FORMAT_VERSION);
        bad++;
    }
    rc = vmp_reader_sections_check(r, check_known, sizeof check_known / sizeof check_known[0],
                                   &skip);
    if (rc != 0) {
        cli_error_lib(path, vmp_reader_errmsg(r), rc);
        bad++;
    }
    if (cfg->power == VMP_POWER_SUSPENDED) {
        if (vmp_reader_image_find(r, "ram", &ram_image) != 0) {
            cli_error(path, "suspended, but has no \"ram\" image");
            bad++;
        }
        if (vmp_reader_section_find(r, VMP_X86_SECTION_ID, &sec) != 0) {
            cli_error(path, "suspended, but has no \"%s\" section", VMP_X86_SECTION_ID);
            bad++;
        }
    }
    bad += check_cpu(path, &cfg->cpu);
    if (bad != 0)
        cli_error(path, "this host cannot %s it",
                  cfg->power == VMP_POWER_SUSPENDED ? "resume" : "run");
    if (skipped != NULL)
        *skipped = skip;
    return bad;
}
