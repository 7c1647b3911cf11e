/*
 * dt_run.h - running one case on two workers and reporting a mismatch:
 * shared by the random driver (difftest.c) and the chosen cases
 * (dt_chosen.c).
 */
#ifndef DT_RUN_H
#define DT_RUN_H

#include <stdint.h>

#include "dt_gen.h"
#include "dt_worker.h"

struct dt_ctx {
    struct dt_worker a;         /* native */
    struct dt_worker b;         /* translated (or native again: --reference native) */
    int b_is_native;
    int perturb;                /* self-test: change side b's input */
    uint64_t perturb_seed;
    unsigned timeout_ms;
    int verbose;
    const char *profile;        /* NULL: host */
    struct dt_features feat;
    unsigned decode_rejects;    /* generated instructions the decoder refused */
    const char *skip_chosen;    /* comma-separated chosen cases not to run (known, open) */
};

enum dt_outcome { DT_MATCH = 0, DT_MISMATCH = 1, DT_HARNESS_ERROR = -1 };

/* Fills the exchange buffer: the four regions, code (rest of the code
 * region INT3), the initial state. code_prot: PROT_* of the code region. */
void dt_build_case(uint8_t *xchg, const struct dt_init *init, const uint8_t *code, unsigned code_len,
                   unsigned code_prot, unsigned low_prot);

/* Runs the case that is in ctx->a's buffer on both workers and compares.
 * diff (may be NULL) receives the differences. */
int dt_run_built(struct dt_ctx *ctx, uint32_t undef_end, uint32_t undef_exc, char *diff,
                 unsigned difflen);

/* Prints code bytes, their disassembly (objdump if present) and the
 * decoder's view of each instruction. */
void dt_print_code(const uint8_t *code, unsigned len);

/* Runs the chosen (hand-picked) cases; returns the number that failed,
 * or -1 on a harness error. */
int dt_run_chosen(struct dt_ctx *ctx, const char *only);

#endif
