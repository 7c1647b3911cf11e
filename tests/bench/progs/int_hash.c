/* Integer-bound benchmark: a sieve, a table-driven CRC-32 and a
 * multiply-xorshift hash over a buffer. Prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
        crc_table[i] = c;
    }
}

static uint32_t crc32_buf(const uint8_t *b, size_t n, uint32_t c)
{
    c = ~c;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ b[i]) & 0xff] ^ (c >> 8);
    return ~c;
}

static unsigned sieve(unsigned n, uint8_t *composite)
{
    unsigned count = 0;
    memset(composite, 0, n);
    for (unsigned i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        for (unsigned j = i * 2; j < n; j += i)
            composite[j] = 1;
    }
    return count;
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    enum { N = 1 << 20 };
    uint8_t *buf = malloc(N), *comp = malloc(4000000);
    uint32_t x = 2463534242u, h = 0, c = 0;
    crc_init();
    for (int i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    for (unsigned r = 0; r < 120 * scale; r++) {
        c = crc32_buf(buf, N, c);
        const uint32_t *w = (const uint32_t *)buf;
        for (int i = 0; i < N / 4; i++) {
            h ^= w[i] + r;
            h *= 0x9E3779B1u;
            h ^= h >> 15;
        }
    }
    unsigned primes = 0;
    for (unsigned r = 0; r < 40 * scale; r++)
        primes += sieve(4000000, comp);
    printf("crc %08x hash %08x primes %u\n", c, h, primes);
    return 0;
}
