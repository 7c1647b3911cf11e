/*
 * xlat_emit.h - the byte emitter the translator writes host code with.
 * Bounds are checked on every byte; an overflow is reported once at the end
 * of a block (the block is then dropped and the cache flushed).
 */
#ifndef VMP_XLAT_EMIT_H
#define VMP_XLAT_EMIT_H

#include <stdint.h>
#include <string.h>

struct emit {
    uint8_t *start, *p, *end;
    int overflow;
};

static inline void emit_b(struct emit *e, uint8_t b)
{
    if (e->p < e->end)
        *e->p++ = b;
    else
        e->overflow = 1;
}

static inline void emit_n(struct emit *e, const void *src, size_t n)
{
    if (n == 0)
        return;
    if ((size_t)(e->end - e->p) < n) {
        e->overflow = 1;
        return;
    }
    memcpy(e->p, src, n);
    e->p += n;
}

static inline void emit_u32(struct emit *e, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    emit_n(e, b, 4);
}

static inline uint32_t emit_off(const struct emit *e)
{
    return (uint32_t)(e->p - e->start);
}

/* mov dword [r15 + off8], imm32 */
static inline void emit_rt_store_imm(struct emit *e, uint8_t off, uint32_t v)
{
    emit_b(e, 0x41);
    emit_b(e, 0xC7);
    emit_b(e, 0x47);
    emit_b(e, off);
    emit_u32(e, v);
}

#endif
