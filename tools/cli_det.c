/*
 * cli_det.c - the "vm.determinism" section for create and inspect
 * (cli_det.h; layout: spec/machine.md 7).
 */
#include "cli_det.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DET_MAX_UNIX       253402300799LL /* 9999-12-31T23:59:59Z */

int cli_det_parse_seed(const char *s, uint8_t seed[VMP_DET_SEED_BYTES])
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 2 * VMP_DET_SEED_BYTES)
        return -1;
    memset(seed, 0, VMP_DET_SEED_BYTES);
    for (i = 0; i < n; i++) {
        char c = s[n - 1 - i];
        unsigned v;

        if (c >= '0' && c <= '9')
            v = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = (unsigned)(c - 'A' + 10);
        else
            return -1;
        /* digit i from the right: byte 31 - i/2, low nibble first */
        seed[VMP_DET_SEED_BYTES - 1 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
    }
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days
 * algorithm run backwards: eras of 400 years, March-based years). */
static int64_t det_days(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = y / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int det_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at s into *v; 0 or -1. */
static int det_digits(const char *s, unsigned n, unsigned *v)
{
    *v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return 0;
}

int cli_det_parse_rtc(const char *s, int64_t *unix_seconds)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    size_t n = strlen(s);

    if (n > 0 && strspn(s, "0123456789") == n) {
        char *end;
        long long v;

        if (n > 12)
            return -1;
        v = strtoll(s, &end, 10);
        if (*end != '\0' || v < 0 || v > DET_MAX_UNIX)
            return -1;
        *unix_seconds = v;
        return 0;
    }
    if (n < 10 || det_digits(s, 4, &y) || s[4] != '-' || det_digits(s + 5, 2, &mo) || s[7] != '-' ||
        det_digits(s + 8, 2, &d))
        return -1;
    if (n > 10) {
        if ((s[10] != 'T' && s[10] != ' ') || n < 19 || det_digits(s + 11, 2, &h) || s[13] != ':' ||
            det_digits(s + 14, 2, &mi) || s[16] != ':' || det_digits(s + 17, 2, &sec))
            return -1;
        if (n != 19 && !(n == 20 && s[19] == 'Z'))
            return -1;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && det_leap(y)) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    *unix_seconds = det_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

int cli_det_read(vmp_reader *r, struct vmp_det *d, char *err, size_t errlen)
{
    unsigned sec;
    void *data = NULL;
    size_t len = 0;
    int ret = -1;

    if (vmp_reader_section_find(r, VMP_DET_SECTION_ID, &sec) != 0)
        return 0;
    if (vmp_reader_section_read(r, sec, &data, &len) != 0) {
        snprintf(err, errlen, "section %s: %s", VMP_DET_SECTION_ID, vmp_reader_errmsg(r));
        return -1;
    }
    if (vmp_det_decode(data, len, d, err, errlen) == 0)
        ret = 1;
    free(data);
    return ret;
}

void cli_det_fmt_time(int64_t t, char *buf, size_t buflen)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, z, era, y;
    unsigned doe, yoe, doy, mp, d, m, sod = (unsigned)(t - days * 86400);

    /* civil from days (the inverse of det_days) */
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(buf, buflen, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d, sod / 3600,
             sod / 60 % 60, sod % 60);
}
