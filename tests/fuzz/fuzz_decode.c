/*
 * fuzz_decode - libFuzzer target for the instruction decoder
 * (vmm/cpu/decode.h): data[0] bit 0 is the code segment's D bit, the rest
 * is the code. x86_decode must never read past the bytes it is given
 * (ASan sees that: the code is copied to a buffer of exactly its size)
 * and, when it succeeds, must report a length of 1..15 that fits in them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t avail = size - 1;
    uint8_t *code = malloc(avail ? avail : 1);
    if (!code)
        return 0;
    memcpy(code, data + 1, avail);
    struct x86_insn insn;
    memset(&insn, 0, sizeof insn);
    int rc = x86_decode(code, avail, data[0] & 1, &insn);
    /* SDM 2A 2.3.11: no instruction is longer than 15 bytes */
    if (insn.len > 15)
        __builtin_trap();
    if (rc == X86_DEC_OK && (insn.len == 0 || insn.len > avail))
        __builtin_trap();
    free(code);
    return 0;
}
