/*
 * cli_profile.h - CPU profile helpers for the subcommands.
 */
#ifndef VMP_CLI_PROFILE_H
#define VMP_CLI_PROFILE_H

#include <stddef.h>

#include <vmpack/profile.h>

/* A built-in name or a path to a JSON profile. 0, or prints why (what
 * names the argument, e.g. "--cpu") and returns CLI_FAIL. */
int cli_profile_load(const char *arg, const char *what, struct vmp_cpu_profile *p);

/* Space-separated /proc/cpuinfo names of the features p reports; returns
 * how many were written. */
size_t cli_profile_features(const struct vmp_cpu_profile *p, char *buf, size_t buflen);

void cli_profile_vendor(const struct vmp_cpu_profile *p, char vendor[13]);
void cli_profile_signature(const struct vmp_cpu_profile *p, unsigned *family, unsigned *model,
                           unsigned *stepping);

/* Features of p the translator cannot run are an error (CLI_FAIL, naming
 * each). Features this host lacks are an error when strict, else a
 * warning on stderr (a container may be made for another host). */
int cli_profile_check_host(const struct vmp_cpu_profile *p, const char *what, int strict);

#endif
