/*
 * devsec.c - saved-state sections (dev.h): a growable little-endian writer
 * and a bounds-checked reader over untrusted bytes, plus guest RAM copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"

int dev_ram_read(const struct dev_ram *ram, uint64_t gpa, void *dst, uint64_t len)
{
    const uint8_t *src = dev_ram_ptr(ram, gpa, len);
    if (!src)
        return -1;
    if (len)
        memcpy(dst, src, len);
    return 0;
}

int dev_ram_write(const struct dev_ram *ram, uint64_t gpa, const void *src, uint64_t len)
{
    uint8_t *dst = dev_ram_ptr(ram, gpa, len);
    if (!dst)
        return -1;
    if (len)
        memcpy(dst, src, len);
    return 0;
}

void dev_sec_writer_init(struct dev_sec_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void dev_sec_writer_free(struct dev_sec_writer *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

int dev_sec_writer_status(const struct dev_sec_writer *w)
{
    return w->failed ? DEV_ENOMEM : DEV_OK;
}

void dev_sec_put_bytes(struct dev_sec_writer *w, const void *p, size_t len)
{
    if (w->failed)
        return;
    if (len > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < len) {
            if (cap > SIZE_MAX / 2) {
                w->failed = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->failed = 1;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    if (len)
        memcpy(w->buf + w->len, p, len);
    w->len += len;
}

void dev_sec_put_u8(struct dev_sec_writer *w, uint8_t v)
{
    dev_sec_put_bytes(w, &v, 1);
}

void dev_sec_put_u16(struct dev_sec_writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    dev_sec_put_bytes(w, b, 2);
}

void dev_sec_put_u32(struct dev_sec_writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    dev_sec_put_bytes(w, b, 4);
}

void dev_sec_put_u64(struct dev_sec_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    dev_sec_put_bytes(w, b, 8);
}

void dev_sec_reader_init(struct dev_sec_reader *r, const char *name, const void *p, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->len = p ? len : 0;
    r->name = name ? name : "section";
}

int dev_sec_reader_status(const struct dev_sec_reader *r)
{
    return r->status;
}

const char *dev_sec_reader_errmsg(const struct dev_sec_reader *r)
{
    return r->errmsg;
}

int dev_sec_fail(struct dev_sec_reader *r, int status, const char *fmt, ...)
{
    if (r->status)
        return r->status;
    r->status = status;
    int n = snprintf(r->errmsg, sizeof(r->errmsg), "%s at offset %zu: ", r->name, r->field_off);
    if (n < 0 || (size_t)n >= sizeof(r->errmsg))
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg + n, sizeof(r->errmsg) - (size_t)n, fmt, ap);
    va_end(ap);
    return status;
}

static const uint8_t *sec_take(struct dev_sec_reader *r, size_t len)
{
    if (r->status)
        return NULL;
    r->field_off = r->off;
    if (len > r->len - r->off) {
        dev_sec_fail(r, DEV_ECORRUPT, "truncated: need %zu more bytes, %zu left", len,
                     r->len - r->off);
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += len;
    return q;
}

uint8_t dev_sec_get_u8(struct dev_sec_reader *r)
{
    const uint8_t *q = sec_take(r, 1);
    return q ? q[0] : 0;
}

uint16_t dev_sec_get_u16(struct dev_sec_reader *r)
{
    const uint8_t *q = sec_take(r, 2);
    return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}

uint32_t dev_sec_get_u32(struct dev_sec_reader *r)
{
    const uint8_t *q = sec_take(r, 4);
    uint32_t v = 0;
    for (int i = 3; q && i >= 0; i--)
        v = v << 8 | q[i];
    return v;
}

uint64_t dev_sec_get_u64(struct dev_sec_reader *r)
{
    const uint8_t *q = sec_take(r, 8);
    uint64_t v = 0;
    for (int i = 7; q && i >= 0; i--)
        v = v << 8 | q[i];
    return v;
}

void dev_sec_get_bytes(struct dev_sec_reader *r, void *p, size_t len)
{
    const uint8_t *q = sec_take(r, len);
    if (q)
        memcpy(p, q, len);
    else
        memset(p, 0, len);
}

uint8_t dev_sec_get_bool(struct dev_sec_reader *r, const char *field)
{
    uint8_t v = dev_sec_get_u8(r);
    if (v > 1) {
        dev_sec_fail(r, DEV_ECORRUPT, "%s: expected 0 or 1, found %u", field, v);
        return 0;
    }
    return v;
}

uint32_t dev_sec_get_version(struct dev_sec_reader *r, uint32_t expected)
{
    uint32_t v = dev_sec_get_u32(r);
    if (!r->status && v != expected) {
        dev_sec_fail(r, DEV_EVERSION, "unknown version %u (this build reads version %u)", v,
                     expected);
    }
    return v;
}

int dev_sec_end(struct dev_sec_reader *r)
{
    r->field_off = r->off;
    if (!r->status && r->off != r->len)
        dev_sec_fail(r, DEV_ECORRUPT, "%zu unexpected bytes after the last field", r->len - r->off);
    return r->status;
}
