/* String-routine benchmark: glibc's memcpy, strlen, strcmp, strchr,
 * memchr and qsort of strings. Prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    enum { NS = 20000, LEN = 48 };
    char *pool = malloc(NS * LEN), **v = malloc(NS * sizeof *v);
    uint32_t r = 1, h = 0;
    for (int i = 0; i < NS; i++) {
        char *s = pool + i * LEN;
        int n = 8 + i % 32;
        for (int k = 0; k < n; k++) {
            r = r * 1664525u + 1013904223u;
            s[k] = (char)('a' + (r >> 24) % 6);
        }
        s[n] = 0;
    }
    char *big = malloc(1 << 16), *dst = malloc(1 << 16);
    memset(big, 'x', 1 << 16);
    big[(1 << 16) - 1] = 0;
    for (unsigned rep = 0; rep < 60 * scale; rep++) {
        for (int i = 0; i < NS; i++)
            v[i] = pool + ((i * 7919 + rep) % NS) * LEN;
        qsort(v, NS, sizeof *v, cmp);
        h = h * 31 + (uint32_t)(v[0][0] + v[NS - 1][1]);
        for (int i = 0; i < 300; i++) {
            memcpy(dst, big + (i & 63), (1 << 16) - 64);
            dst[(1 << 16) - 65] = 0;
            h += (uint32_t)strlen(dst);
            h += strchr(dst, 'y') == NULL;
            h += (uint32_t)((char *)memchr(big, 0, 1 << 16) - big);
        }
        for (int i = 1; i < NS; i++) {
            h += strcmp(v[i - 1], v[i]) <= 0;
            const char *c = strchr(v[i], 'f');
            h += c ? (uint32_t)(c - v[i]) : 0;
        }
    }
    printf("checksum %08x\n", h);
    return 0;
}
