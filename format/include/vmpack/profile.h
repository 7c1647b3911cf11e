/*
 * vmpack/profile.h - CPU profiles: the exact CPUID leaves a guest sees.
 *
 * A profile is a plain value: a name and a sorted list of CPUID leaves.
 * Named baselines are built in (spec/cpu-profiles.md); "host" is what this
 * host and the translator can both run; a profile may also be read from a
 * JSON file of leaves. The container's config blob records the leaves, so a
 * container never depends on a name's meaning changing.
 *
 * Lifecycle:
 *   1. vmp_profile_builtin("i686", &p) or vmp_profile_host(&p) or
 *      vmp_profile_from_json(text, len, &p, err, sizeof err);
 *   2. vmp_profile_cpuid(&p, leaf, subleaf, out) answers guest CPUID;
 *      vmp_profile_has(&p, VMP_FEAT_SSE2) tests a feature;
 *   3. vmp_profile_missing(&p, &host, ...) names features a host lacks.
 * No allocation: a struct vmp_cpu_profile is self-contained.
 */
#ifndef VMPACK_PROFILE_H
#define VMPACK_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/cpufeat.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMP_PROFILE_MAX_LEAVES 48
#define VMP_PROFILE_NAME_MAX 32

struct vmp_cpuid_leaf {
    uint32_t leaf;
    uint32_t subleaf;   /* 0 for leaves that have no subleaves */
    uint32_t eax, ebx, ecx, edx;
};

struct vmp_cpu_profile {
    char name[VMP_PROFILE_NAME_MAX];
    uint32_t nleaves;
    struct vmp_cpuid_leaf leaves[VMP_PROFILE_MAX_LEAVES]; /* sorted by leaf, subleaf */
};

/* Names of the built-in profiles, NULL-terminated. */
const char *const *vmp_profile_names(void);

/* 0 on success; VMP_ERR_NOT_FOUND (see vmpack/error.h) for an unknown name. */
int vmp_profile_builtin(const char *name, struct vmp_cpu_profile *out);

/* The "host" profile: the host's CPUID masked to what the translator supports. */
int vmp_profile_host(struct vmp_cpu_profile *out);

/* The host's raw CPUID leaves (for vmpack check). */
int vmp_profile_read_host(struct vmp_cpu_profile *out);

/* Parse / write the JSON form (spec/cpu-profiles.md). Errors name the field. */
int vmp_profile_from_json(const char *json, size_t len, struct vmp_cpu_profile *out,
                          char *err, size_t errlen);
int vmp_profile_to_json(const struct vmp_cpu_profile *p, char *buf, size_t buflen);

/* The guest's CPUID answer (SDM 2A CPUID: leaves past the maximum return
 * the highest basic leaf's data; absent subleaves return zeros). */
void vmp_profile_cpuid(const struct vmp_cpu_profile *p, uint32_t leaf, uint32_t subleaf,
                       uint32_t out[4]);

/* 1 if the profile reports the feature, else 0. */
int vmp_profile_has(const struct vmp_cpu_profile *p, unsigned feat);

/* Name of a feature as in /proc/cpuinfo ("sse2"), or NULL if unnamed. */
const char *vmp_feat_name(unsigned feat);

/*
 * Features the profile reports that the host does not: writes up to max
 * feature ids to missing[] and returns how many there are in all (may
 * exceed max). 0 means the host can run the profile.
 */
size_t vmp_profile_missing(const struct vmp_cpu_profile *p, const struct vmp_cpu_profile *host,
                           unsigned *missing, size_t max);

#ifdef __cplusplus
}
#endif
#endif
