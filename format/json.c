/*
 * json.c - a strict JSON parser (RFC 8259) for the documents of
 * spec/container.md 3-4 and 7: index.json, the manifest, the config, the
 * signature blobs. It builds a flat node array that points into the input
 * (no copies), bounded by JSON_MAX_NODES and JSON_MAX_DEPTH, and refuses
 * what spec/container.md 4 refuses: duplicate member names, numbers that
 * are not plain non-negative integers up to 2^53, invalid UTF-8 and control
 * characters in strings.
 */
#include "fmt_int.h"

#include <stdlib.h>

struct jp {
    const char *s;
    size_t len, pos;
    struct jdoc *d;
    char *msg;
    const char *what;
};

static int jp_fail(struct jp *p, const char *why)
{
    return fmt_err(p->msg, VMP_ERR_FORMAT, "%s at byte %zu: %s", p->what, p->pos, why);
}

static void jp_ws(struct jp *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int jp_node(struct jp *p, uint32_t *idx)
{
    struct jdoc *d = p->d;
    if (d->nn >= JSON_MAX_NODES)
        return fmt_err(p->msg, VMP_ERR_LIMIT, "%s at byte %zu: more than %u JSON values", p->what,
                       p->pos, JSON_MAX_NODES);
    if (d->nn == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 64;
        struct jnode *n = realloc(d->n, (size_t)cap * sizeof *n);
        if (!n)
            return fmt_err(p->msg, VMP_ERR_NOMEM, "%s: out of memory", p->what);
        d->n = n;
        d->cap = cap;
    }
    memset(&d->n[d->nn], 0, sizeof d->n[0]);
    *idx = d->nn++;
    return 0;
}

/* Checks one UTF-8 sequence starting at s[i] (RFC 3629 4); returns its length or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
        c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
        c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return n;
}

size_t fmt_utf8_bad(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len((const unsigned char *)s + i, n - i);
        if (!k)
            return i;
        i += k;
    }
    return SIZE_MAX;
}

static int hex4(const char *s, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned x;
        if (c >= '0' && c <= '9')
            x = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            x = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            x = (unsigned)(c - 'A' + 10);
        else
            return -1;
        *v = *v << 4 | x;
    }
    return 0;
}

/* At the opening quote; leaves off/len of the raw content. */
static int jp_string(struct jp *p, uint32_t *off, uint32_t *len)
{
    p->pos++;
    size_t start = p->pos;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            *off = (uint32_t)start;
            *len = (uint32_t)(p->pos - start);
            p->pos++;
            return 0;
        }
        if (c < 0x20)
            return jp_fail(p, "control character in string");
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                break;
            char e = p->s[p->pos + 1];
            if (e == 'u') {
                unsigned v;
                if (p->pos + 6 > p->len || hex4(p->s + p->pos + 2, &v))
                    return jp_fail(p, "bad \\u escape");
                p->pos += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                p->pos += 2;
            } else {
                return jp_fail(p, "bad escape");
            }
            continue;
        }
        size_t n = utf8_len((const unsigned char *)p->s + p->pos, p->len - p->pos);
        if (!n)
            return jp_fail(p, "invalid UTF-8");
        p->pos += n;
    }
    return jp_fail(p, "unterminated string");
}

static int jp_value(struct jp *p, uint32_t *out, int depth);

static int jp_container(struct jp *p, uint32_t self, int depth, int is_obj)
{
    char close = is_obj ? '}' : ']';
    uint32_t prev = 0;
    p->pos++;
    jp_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        uint32_t koff = 0, klen = 0, child;
        int rc;
        jp_ws(p);
        if (is_obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return jp_fail(p, "expected a member name");
            if ((rc = jp_string(p, &koff, &klen)))
                return rc;
            /* spec/container.md 4: duplicate names are refused */
            for (uint32_t c = p->d->n[self].child; c; c = p->d->n[c].next) {
                const struct jnode *k = &p->d->n[c];
                if (k->key_len == klen && memcmp(p->s + k->key_off, p->s + koff, klen) == 0)
                    return jp_fail(p, "duplicate member name");
            }
            jp_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return jp_fail(p, "expected ':'");
            p->pos++;
        }
        if ((rc = jp_value(p, &child, depth + 1)))
            return rc;
        struct jnode *cn = &p->d->n[child];
        cn->key_off = koff;
        cn->key_len = klen;
        if (prev)
            p->d->n[prev].next = child;
        else
            p->d->n[self].child = child;
        p->d->n[self].count++;
        prev = child;
        jp_ws(p);
        if (p->pos >= p->len)
            return jp_fail(p, "unexpected end");
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == close) {
            p->pos++;
            return 0;
        }
        return jp_fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int jp_value(struct jp *p, uint32_t *out, int depth)
{
    int rc;
    if (depth > JSON_MAX_DEPTH)
        return fmt_err(p->msg, VMP_ERR_LIMIT, "%s at byte %zu: nested deeper than %d", p->what,
                       p->pos, JSON_MAX_DEPTH);
    jp_ws(p);
    if (p->pos >= p->len)
        return jp_fail(p, "unexpected end");
    uint32_t i = 0;
    if ((rc = jp_node(p, &i)))
        return rc;
    *out = i;
    char c = p->s[p->pos];
    struct jnode *n = &p->d->n[i];
    if (c == '{' || c == '[') {
        n->type = c == '{' ? J_OBJ : J_ARR;
        return jp_container(p, i, depth, c == '{');
    }
    if (c == '"') {
        uint32_t off, len;
        if ((rc = jp_string(p, &off, &len)))
            return rc;
        n = &p->d->n[i];
        n->type = J_STR;
        n->off = off;
        n->len = len;
        return 0;
    }
    if (c >= '0' && c <= '9') {
        uint64_t v = 0;
        size_t start = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
            v = v * 10 + (uint64_t)(p->s[p->pos] - '0');
            if (v > (1ull << 53))
                return jp_fail(p, "integer above 2^53");
            p->pos++;
        }
        if (p->pos - start > 1 && p->s[start] == '0')
            return jp_fail(p, "leading zero");
        if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
            return jp_fail(p, "number is not an integer");
        n->type = J_NUM;
        n->num = v;
        return 0;
    }
    static const struct {
        const char *lit;
        uint8_t type;
    } lits[] = {{"null", J_NULL}, {"true", J_TRUE}, {"false", J_FALSE}};
    for (size_t k = 0; k < sizeof lits / sizeof lits[0]; k++) {
        size_t l = strlen(lits[k].lit);
        if (p->len - p->pos >= l && memcmp(p->s + p->pos, lits[k].lit, l) == 0) {
            n->type = lits[k].type;
            p->pos += l;
            return 0;
        }
    }
    if (c == '-')
        return jp_fail(p, "negative number");
    return jp_fail(p, "unexpected character");
}

int json_parse(const char *text, size_t len, struct jdoc *d, char *msg, const char *what)
{
    memset(d, 0, sizeof *d);
    d->text = text;
    if (len > UINT32_MAX)
        return fmt_err(msg, VMP_ERR_LIMIT, "%s: %zu bytes of JSON", what, len);
    struct jp p = {.s = text, .len = len, .d = d, .msg = msg, .what = what};
    uint32_t root;
    int rc = jp_value(&p, &root, 0);
    if (!rc) {
        jp_ws(&p);
        if (p.pos != len)
            rc = jp_fail(&p, "trailing characters after the document");
    }
    if (rc)
        json_free(d);
    return rc;
}

void json_free(struct jdoc *d)
{
    free(d->n);
    memset(d, 0, sizeof *d);
}

const struct jnode *json_get(const struct jdoc *d, const struct jnode *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t c = obj->child; c; c = d->n[c].next) {
        const struct jnode *n = &d->n[c];
        if (n->key_len == kl && memcmp(d->text + n->key_off, key, kl) == 0)
            return n;
    }
    return NULL;
}

const struct jnode *json_first(const struct jdoc *d, const struct jnode *arr)
{
    if (!arr || (arr->type != J_ARR && arr->type != J_OBJ) || !arr->child)
        return NULL;
    return &d->n[arr->child];
}

const struct jnode *json_next(const struct jdoc *d, const struct jnode *it)
{
    return it->next ? &d->n[it->next] : NULL;
}

static void put_utf8(char *buf, size_t *o, unsigned v)
{
    if (v < 0x80) {
        buf[(*o)++] = (char)v;
    } else if (v < 0x800) {
        buf[(*o)++] = (char)(0xc0 | v >> 6);
        buf[(*o)++] = (char)(0x80 | (v & 0x3f));
    } else if (v < 0x10000) {
        buf[(*o)++] = (char)(0xe0 | v >> 12);
        buf[(*o)++] = (char)(0x80 | ((v >> 6) & 0x3f));
        buf[(*o)++] = (char)(0x80 | (v & 0x3f));
    } else {
        buf[(*o)++] = (char)(0xf0 | v >> 18);
        buf[(*o)++] = (char)(0x80 | ((v >> 12) & 0x3f));
        buf[(*o)++] = (char)(0x80 | ((v >> 6) & 0x3f));
        buf[(*o)++] = (char)(0x80 | (v & 0x3f));
    }
}

int json_str(const struct jdoc *d, const struct jnode *s, char *buf, size_t buflen)
{
    if (!s || s->type != J_STR || buflen == 0)
        return -1;
    const char *in = d->text + s->off;
    size_t o = 0;
    for (uint32_t i = 0; i < s->len;) {
        char c = in[i];
        if (o + (c == '\\' ? 4 : 1) >= buflen) /* room for the longest UTF-8 and the NUL */
            return -1;
        if (c != '\\') {
            buf[o++] = c;
            i++;
            continue;
        }
        char e = in[i + 1]; /* the parser checked every escape */
        i += 2;
        switch (e) {
        case 'b': buf[o++] = '\b'; break;
        case 'f': buf[o++] = '\f'; break;
        case 'n': buf[o++] = '\n'; break;
        case 'r': buf[o++] = '\r'; break;
        case 't': buf[o++] = '\t'; break;
        case 'u': {
            unsigned v, lo;
            hex4(in + i, &v);
            i += 4;
            if (v >= 0xd800 && v <= 0xdbff) {
                if (i + 6 > s->len || in[i] != '\\' || in[i + 1] != 'u' || hex4(in + i + 2, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return -1;
                i += 6;
                v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
            } else if (v >= 0xdc00 && v <= 0xdfff) {
                return -1;
            }
            if (v == 0)
                return -1;
            put_utf8(buf, &o, v);
            break;
        }
        default: buf[o++] = e; break;
        }
    }
    if (o >= buflen)
        return -1;
    buf[o] = 0;
    return 0;
}

int json_str_is(const struct jdoc *d, const struct jnode *s, const char *lit)
{
    size_t l = strlen(lit);
    return s && s->type == J_STR && s->len == l && memcmp(d->text + s->off, lit, l) == 0;
}
