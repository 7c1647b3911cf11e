/*
 * cli_check.h - can this host run or resume a container? The decision of
 * `vmpack check`, shared with `vmpack run` and `vmpack resume`, which refuse
 * a container with the same messages instead of starting a guest that
 * would crash later (spec/snapshot.md 4).
 */
#ifndef VMP_CLI_CHECK_H
#define VMP_CLI_CHECK_H

#include <vmpack/reader.h>

/*
 * Checks the open container r (read from path): its format version, that
 * every required section is one this vmpack restores, that a suspended one
 * carries its RAM image and CPU state, and that this host has every CPU
 * feature of its profile. Prints each reason as "vmpack: PATH: why" and,
 * if there is any, the verdict "vmpack: PATH: this host cannot run|resume
 * it". Returns the number of reasons (0: it can). *skipped (may be NULL):
 * optional sections this vmpack ignores.
 */
unsigned cli_check_container(vmp_reader *r, const char *path, unsigned *skipped);

#endif
