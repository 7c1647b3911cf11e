/*
 * dt_cmp.h - compare a case's native and translated results and describe
 * the differences.
 *
 * What is compared: how the case ended (INT3, or the exception vector and
 * for #PF the faulting address), EIP, the eight registers, the arithmetic
 * flags and DF (minus the bits the SDM leaves undefined), FS and GS,
 * FCW FSW FTW MXCSR, ST0-ST7 and XMM0-XMM7 from the FXSAVE image, and
 * every byte of every region. Not compared: FIP/FDP/FOP (the translated
 * x87 code runs at other addresses; AMD does not save them anyway unless
 * an exception is pending), and EFLAGS bits outside the arithmetic ones
 * and DF (IF, RF, ID are not state a sequence can observe through them).
 */
#ifndef DT_CMP_H
#define DT_CMP_H

#include <stddef.h>
#include <stdint.h>

#include "dt_proto.h"

#define DT_EFLAGS_COMPARED 0xcd5u /* CF PF AF ZF SF DF OF */

/* Compares the results in two exchange buffers for the case in `a`.
 * undef_end: EFLAGS bits undefined when the case runs to its INT3;
 * undef_exc: when it ends in an exception (both sides the same one).
 * Returns the number of differences and writes a description to out. */
unsigned dt_compare(const uint8_t *a, const uint8_t *b, uint32_t undef_end, uint32_t undef_exc,
                    char *out, size_t outlen);

/* One line naming how a result ended ("INT3 at 0x400012", "#PF at ..."). */
void dt_result_str(const struct dt_result *r, char *out, size_t outlen);

#endif
