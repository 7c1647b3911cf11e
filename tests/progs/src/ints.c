/* Integer arithmetic: hashes, bit tricks, 32- and 64-bit division, qsort. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static uint32_t crc32_sw(const unsigned char *b, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
    }
    return ~c;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    unsigned char buf[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    printf("fnv1a %08x crc32 %08x\n", fnv1a(buf, sizeof buf), crc32_sw(buf, sizeof buf));

    volatile int32_t sv[] = {7, -7, 100000, -2147483647 - 1, 3, 1000000007};
    volatile int32_t dv[] = {2, 3, -7, 3, -1, 97};
    for (int i = 0; i < 6; i++)
        if (!(sv[i] == -2147483647 - 1 && dv[i] == -1))
            printf("%d / %d = %d r %d\n", sv[i], dv[i], sv[i] / dv[i], sv[i] % dv[i]);
    volatile uint64_t a = 0xFEDCBA9876543210ull, b = 12345678901ull;
    volatile int64_t c = -9876543210123ll, d = 77;
    printf("u64 %llu %llu %llx\n", (unsigned long long)(a / b), (unsigned long long)(a % b),
           (unsigned long long)(a * b));
    printf("s64 %lld %lld\n", (long long)(c / d), (long long)(c % d));

    uint32_t acc = 0;
    for (uint32_t v = 1; v < 200000; v += 7) {
        acc += (uint32_t)__builtin_popcount(v) * 3 + (uint32_t)__builtin_clz(v) +
               (uint32_t)__builtin_ctz(v) + __builtin_bswap32(v);
        acc = (acc << 5) | (acc >> 27);
        acc ^= (uint32_t)((uint64_t)v * 0x9E3779B97F4A7C15ull >> 32);
    }
    printf("bits %08x\n", acc);

    int8_t s8 = -5;
    uint16_t u16 = 65535;
    printf("ext %d %u %d %d\n", s8 >> 1, (unsigned)(u16 + 1), (int)(int16_t)u16, -17 >> 2);

    enum { N = 5000 };
    uint32_t *arr = malloc(N * sizeof *arr);
    for (int i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        arr[i] = x % 100000;
    }
    qsort(arr, N, sizeof *arr, cmp_u32);
    uint32_t h = fnv1a(arr, N * sizeof *arr);
    printf("sorted %u %u %u %08x\n", arr[0], arr[N / 2], arr[N - 1], h);
    free(arr);
    return 0;
}
