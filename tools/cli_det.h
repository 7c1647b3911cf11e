/*
 * cli_det.h - deterministic mode's "vm.determinism" section as the CLI
 * makes and shows it (`vmpack create --deterministic`, `vmpack inspect`).
 * The layout is spec/machine.md 7's table; the VMM reads it with its own
 * parser (vmm/board_state.c) and runs a container that has it in
 * deterministic mode whatever the command line says.
 */
#ifndef VMP_CLI_DET_H
#define VMP_CLI_DET_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/reader.h>

#define CLI_DET_SECTION    "vm.determinism"
#define CLI_DET_VERSION    1u  /* the container section's version */
#define CLI_DET_BYTES      64u /* the section's size */
#define CLI_DET_SEED_BYTES 32u

struct cli_det {
    uint32_t ns_per_insn;
    uint8_t seed[CLI_DET_SEED_BYTES];
    int64_t rtc_unix_seconds; /* the RTC at power on */
    uint64_t clock_ns;        /* the virtual clock at the save (0: powered off) */
    uint64_t icount;          /* instructions at the save (0: powered off) */
};

/* --seed: 1 to 64 hex digits, a number (shorter ones are zero-extended on
 * the left: "1" and "0001" are the same seed). 0, or -1 if malformed. */
int cli_det_parse_seed(const char *s, uint8_t seed[CLI_DET_SEED_BYTES]);

/* --rtc: Unix seconds (digits only), or an ISO 8601 UTC date
 * YYYY-MM-DD[THH:MM:SS[Z]] from 1970-01-01 to 9999-12-31T23:59:59.
 * 0, or -1 if malformed or out of range. */
int cli_det_parse_rtc(const char *s, int64_t *unix_seconds);

/* The section's bytes (little-endian, spec/machine.md 7). */
void cli_det_encode(const struct cli_det *d, uint8_t out[CLI_DET_BYTES]);

/* 1 with *d filled if r has the section, 0 if not, -1 if it is unreadable
 * or malformed (why in err). */
int cli_det_read(vmp_reader *r, struct cli_det *d, char *err, size_t errlen);

/* "2024-01-01T00:00:00Z" for a Unix time (buf of at least 32 bytes). */
void cli_det_fmt_time(int64_t unix_seconds, char *buf, size_t buflen);

#endif
