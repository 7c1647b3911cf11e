/*
 * cli_det.h - deterministic mode's "vm.determinism" section as the CLI
 * makes and shows it (`vmpack create --deterministic`, `vmpack inspect`).
 * The bytes are vmpack/detsection.h's (spec/machine.md 7); a container
 * that has the section runs in deterministic mode whatever the command
 * line says.
 */
#ifndef VMP_CLI_DET_H
#define VMP_CLI_DET_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/detsection.h>
#include <vmpack/reader.h>

/* --seed: 1 to 64 hex digits, a number (shorter ones are zero-extended on
 * the left: "1" and "0001" are the same seed). 0, or -1 if malformed. */
int cli_det_parse_seed(const char *s, uint8_t seed[VMP_DET_SEED_BYTES]);

/* --rtc: Unix seconds (digits only), or an ISO 8601 UTC date
 * YYYY-MM-DD[THH:MM:SS[Z]] from 1970-01-01 to 9999-12-31T23:59:59.
 * 0, or -1 if malformed or out of range. */
int cli_det_parse_rtc(const char *s, int64_t *unix_seconds);

/* 1 with *d filled if r has the section, 0 if not, -1 if it is unreadable
 * or malformed (why in err). */
int cli_det_read(vmp_reader *r, struct vmp_det *d, char *err, size_t errlen);

/* "2024-01-01T00:00:00Z" for a Unix time (buf of at least 32 bytes). */
void cli_det_fmt_time(int64_t unix_seconds, char *buf, size_t buflen);

#endif
