/*
 * rtc.c - the MC146818 CMOS RTC of a PC at ports 0x70 (index, bit 7 masks
 * NMI) and 0x71 (data), IRQ 8. The date and time come from the virtual
 * clock: the RTC keeps the Unix time it showed at one virtual instant and
 * adds the elapsed virtual seconds, so it never reads a host clock.
 * Models: seconds to year and century (0x32) in BCD or binary, 12 or 24
 * hour mode, register A's update-in-progress bit (the last 244 us of each
 * second) and rate, register B's enables and SET bit (time frozen while
 * set), register C's flags (PF, AF, UF, IRQF; cleared when read, which
 * lowers IRQ 8), register D's valid-RAM bit, the periodic, alarm and
 * update-ended interrupts (alarm "don't care" codes 0xC0-0xFF included),
 * and 114 bytes of NVRAM.
 * Leaves out: daylight saving (DSE), the square-wave output, and divider
 * chains other than 32.768 kHz (time runs whatever register A says).
 * Saves: section "dev.rtc" (spec/devices.md 4).
 * Source: Motorola MC146818A datasheet; the century byte: IBM PC/AT
 * technical reference.
 */
#include <stdlib.h>
#include <string.h>

#include "rtc.h"

#define NS_PER_S   1000000000ull
#define RTC_UIP_NS 244000ull

enum {
    REG_SEC = 0x00,
    REG_SEC_ALARM = 0x01,
    REG_MIN = 0x02,
    REG_MIN_ALARM = 0x03,
    REG_HOUR = 0x04,
    REG_HOUR_ALARM = 0x05,
    REG_DOW = 0x06,
    REG_DOM = 0x07,
    REG_MONTH = 0x08,
    REG_YEAR = 0x09,
    REG_A = 0x0A,
    REG_B = 0x0B,
    REG_C = 0x0C,
    REG_D = 0x0D,
    REG_CENTURY = 0x32,
};

enum { B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM = 0x04, B_24H = 0x02 };
enum { C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10 };

struct rtc {
    struct dev_irq irq;
    struct dev_clock clock;
    uint8_t cmos[128]; /* NVRAM, alarm bytes, A and B; time bytes are computed */
    uint8_t index;
    uint8_t nmi_masked;
    uint8_t reg_c;
    uint8_t irq_level;
    int64_t base_s; /* the Unix time shown at virtual time base_ns */
    uint64_t base_ns;
    uint64_t advanced_ns; /* flags accounted up to here */
};

struct rtc_tm {
    int64_t year;
    int mon, mday, hour, min, sec, wday; /* mon 1-12, wday 0 = Sunday */
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * "days_from_civil" derivation, written out here). */
static int64_t rtc_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void rtc_civil_from_days(int64_t z, struct rtc_tm *tm)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    tm->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    tm->year = yoe + era * 400 + (tm->mon <= 2);
}

static void rtc_to_tm(int64_t t, struct rtc_tm *tm)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    rtc_civil_from_days(days, tm);
    tm->hour = (int)(secs / 3600);
    tm->min = (int)(secs / 60 % 60);
    tm->sec = (int)(secs % 60);
    tm->wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
}

static int64_t rtc_from_tm(const struct rtc_tm *tm)
{
    return rtc_days_from_civil(tm->year, tm->mon, tm->mday) * 86400 + tm->hour * 3600 +
           tm->min * 60 + tm->sec;
}

static int64_t rtc_now_s(const struct rtc *rtc, uint64_t now_ns, uint64_t *frac_ns)
{
    uint64_t el = now_ns > rtc->base_ns ? now_ns - rtc->base_ns : 0;
    if (rtc->cmos[REG_B] & B_SET)
        el = 0;
    if (frac_ns)
        *frac_ns = el % NS_PER_S;
    return rtc->base_s + (int64_t)(el / NS_PER_S);
}

static uint8_t rtc_enc(const struct rtc *rtc, int v)
{
    if (rtc->cmos[REG_B] & B_DM)
        return (uint8_t)v;
    return (uint8_t)((v / 10) << 4 | v % 10);
}

static int rtc_dec(const struct rtc *rtc, uint8_t v)
{
    if (rtc->cmos[REG_B] & B_DM)
        return v;
    return (v >> 4) * 10 + (v & 0x0F);
}

static uint8_t rtc_enc_hour(const struct rtc *rtc, int h)
{
    if (rtc->cmos[REG_B] & B_24H)
        return rtc_enc(rtc, h);
    int h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(rtc_enc(rtc, h12) | (h >= 12 ? 0x80 : 0));
}

static int rtc_dec_hour(const struct rtc *rtc, uint8_t v)
{
    if (rtc->cmos[REG_B] & B_24H)
        return rtc_dec(rtc, v);
    int h = rtc_dec(rtc, v & 0x7F) % 12;
    return (v & 0x80) ? h + 12 : h;
}

static uint8_t rtc_time_reg(const struct rtc *rtc, const struct rtc_tm *tm, unsigned reg)
{
    switch (reg) {
    case REG_SEC:
        return rtc_enc(rtc, tm->sec);
    case REG_MIN:
        return rtc_enc(rtc, tm->min);
    case REG_HOUR:
        return rtc_enc_hour(rtc, tm->hour);
    case REG_DOW:
        return rtc_enc(rtc, tm->wday + 1);
    case REG_DOM:
        return rtc_enc(rtc, tm->mday);
    case REG_MONTH:
        return rtc_enc(rtc, tm->mon);
    case REG_YEAR:
        return rtc_enc(rtc, (int)(tm->year % 100));
    default: /* REG_CENTURY */
        return rtc_enc(rtc, (int)(tm->year / 100));
    }
}

static int rtc_is_time_reg(unsigned reg)
{
    return reg == REG_SEC || reg == REG_MIN || reg == REG_HOUR ||
           (reg >= REG_DOW && reg <= REG_YEAR) || reg == REG_CENTURY;
}

static void rtc_set_irq(struct rtc *rtc)
{
    uint8_t enabled = rtc->cmos[REG_B] & (B_PIE | B_AIE | B_UIE);
    /* enable bits line up with the flag bits: PIE 0x40 / PF 0x40 ... */
    if (rtc->reg_c & enabled & (C_PF | C_AF | C_UF))
        rtc->reg_c |= C_IRQF;
    int level = (rtc->reg_c & C_IRQF) != 0;
    if (level != rtc->irq_level) {
        rtc->irq_level = (uint8_t)level;
        dev_irq_set(&rtc->irq, level);
    }
}

/* Periodic interrupt period from register A's rate select, 0 if off. */
static uint64_t rtc_period_ns(const struct rtc *rtc)
{
    unsigned rate = rtc->cmos[REG_A] & 0x0F;
    if (!rate)
        return 0;
    /* MC146818A table 5 (32.768 kHz): rates 1 and 2 repeat 8 and 9 */
    unsigned shift = rate <= 2 ? rate + 6 : rate - 1;
    return ((uint64_t)1 << shift) * NS_PER_S / 32768;
}

static int rtc_alarm_match(const struct rtc *rtc, int64_t t)
{
    struct rtc_tm tm;
    rtc_to_tm(t, &tm);
    static const unsigned alarm[3] = {REG_SEC_ALARM, REG_MIN_ALARM, REG_HOUR_ALARM};
    static const unsigned cur[3] = {REG_SEC, REG_MIN, REG_HOUR};
    for (int i = 0; i < 3; i++) {
        uint8_t a = rtc->cmos[alarm[i]];
        if ((a & 0xC0) == 0xC0) /* don't care */
            continue;
        if (a != rtc_time_reg(rtc, &tm, cur[i]))
            return 0;
    }
    return 1;
}

void rtc_advance(struct rtc *rtc, uint64_t now_ns)
{
    if (now_ns <= rtc->advanced_ns)
        return;
    uint64_t from = rtc->advanced_ns;
    uint64_t period = rtc_period_ns(rtc);
    if (period && (now_ns - rtc->base_ns) / period != (from - rtc->base_ns) / period)
        rtc->reg_c |= C_PF;
    if (!(rtc->cmos[REG_B] & B_SET)) {
        int64_t s0 = rtc_now_s(rtc, from, NULL), s1 = rtc_now_s(rtc, now_ns, NULL);
        if (s1 != s0) {
            rtc->reg_c |= C_UF;
            /* check at most the last day of seconds crossed for the alarm */
            int64_t first = s1 - s0 > 86400 ? s1 - 86400 : s0 + 1;
            for (int64_t s = first; s <= s1; s++)
                if (rtc_alarm_match(rtc, s)) {
                    rtc->reg_c |= C_AF;
                    break;
                }
        }
    }
    rtc->advanced_ns = now_ns;
    rtc_set_irq(rtc);
}

uint64_t rtc_next_deadline_ns(const struct rtc *rtc)
{
    uint64_t next = DEV_NO_DEADLINE;
    uint64_t at = rtc->advanced_ns;
    uint64_t period = rtc_period_ns(rtc);
    if (period && (rtc->cmos[REG_B] & B_PIE))
        next = rtc->base_ns + ((at - rtc->base_ns) / period + 1) * period;
    if ((rtc->cmos[REG_B] & (B_UIE | B_AIE)) && !(rtc->cmos[REG_B] & B_SET)) {
        uint64_t sec = rtc->base_ns + ((at - rtc->base_ns) / NS_PER_S + 1) * NS_PER_S;
        if (sec < next)
            next = sec;
    }
    return next;
}

/* Re-anchor the time at `now` to show Unix time t (keeps the sub-second
 * phase at zero, as a write to the divider chain does). */
static void rtc_set_time(struct rtc *rtc, int64_t t, uint64_t now_ns)
{
    rtc->base_s = t;
    rtc->base_ns = now_ns;
    rtc->advanced_ns = now_ns;
}

static uint32_t rtc_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct rtc *rtc = opaque;
    (void)size_bytes;
    if (offset == 0)
        return 0xFF; /* the index port is write-only */
    uint64_t now = dev_clock_now(&rtc->clock);
    rtc_advance(rtc, now);
    unsigned reg = rtc->index;
    if (rtc_is_time_reg(reg)) {
        struct rtc_tm tm;
        rtc_to_tm(rtc_now_s(rtc, now, NULL), &tm);
        return rtc_time_reg(rtc, &tm, reg);
    }
    switch (reg) {
    case REG_A: {
        uint64_t frac;
        rtc_now_s(rtc, now, &frac);
        int uip = !(rtc->cmos[REG_B] & B_SET) && frac >= NS_PER_S - RTC_UIP_NS;
        return (rtc->cmos[REG_A] & 0x7F) | (uip ? 0x80u : 0);
    }
    case REG_C: {
        uint8_t v = rtc->reg_c;
        rtc->reg_c = 0;
        rtc_set_irq(rtc);
        return v;
    }
    case REG_D:
        return 0x80; /* VRT: the battery is good */
    default:
        return rtc->cmos[reg];
    }
}

static void rtc_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct rtc *rtc = opaque;
    uint8_t v = (uint8_t)value;
    (void)size_bytes;
    if (offset == 0) {
        rtc->index = v & 0x7F;
        rtc->nmi_masked = v >> 7;
        return;
    }
    uint64_t now = dev_clock_now(&rtc->clock);
    rtc_advance(rtc, now);
    unsigned reg = rtc->index;
    if (rtc_is_time_reg(reg)) {
        struct rtc_tm tm;
        rtc_to_tm(rtc_now_s(rtc, now, NULL), &tm);
        int x = reg == REG_HOUR ? rtc_dec_hour(rtc, v) : rtc_dec(rtc, v);
        switch (reg) {
        case REG_SEC:
            tm.sec = x % 60;
            break;
        case REG_MIN:
            tm.min = x % 60;
            break;
        case REG_HOUR:
            tm.hour = x % 24;
            break;
        case REG_DOW: /* derived from the date */
            break;
        case REG_DOM:
            tm.mday = x >= 1 && x <= 31 ? x : tm.mday;
            break;
        case REG_MONTH:
            tm.mon = x >= 1 && x <= 12 ? x : tm.mon;
            break;
        case REG_YEAR:
            tm.year = tm.year / 100 * 100 + x % 100;
            break;
        default: /* century */
            tm.year = (int64_t)(x % 100) * 100 + tm.year % 100;
            break;
        }
        rtc_set_time(rtc, rtc_from_tm(&tm), now);
        return;
    }
    switch (reg) {
    case REG_A:
        rtc->cmos[REG_A] = v & 0x7F;
        break;
    case REG_B: {
        uint8_t old = rtc->cmos[REG_B];
        if ((v & B_SET) && !(old & B_SET)) /* freeze: time stays at now */
            rtc_set_time(rtc, rtc_now_s(rtc, now, NULL), now);
        if (!(v & B_SET) && (old & B_SET)) /* run again from now */
            rtc_set_time(rtc, rtc->base_s, now);
        /* SET also clears UIE (MC146818A register B, bit 7) */
        rtc->cmos[REG_B] = (v & B_SET) ? (uint8_t)(v & ~B_UIE) : v;
        rtc_set_irq(rtc);
        break;
    }
    case REG_C:
    case REG_D: /* read-only */
        break;
    default:
        rtc->cmos[reg] = v;
        break;
    }
}

const struct dev_io_ops rtc_io_ops = {rtc_read, rtc_write, 1};

struct rtc *rtc_create(const struct dev_irq *irq8, const struct dev_clock *clock,
                       int64_t unix_seconds)
{
    struct rtc *rtc = calloc(1, sizeof(*rtc));
    if (!rtc)
        return NULL;
    rtc->irq = *irq8;
    rtc->clock = *clock;
    rtc->cmos[REG_A] = 0x26; /* 32.768 kHz divider, 1024 Hz rate */
    rtc->cmos[REG_B] = B_24H;
    rtc_set_time(rtc, unix_seconds, dev_clock_now(clock));
    return rtc;
}

void rtc_destroy(struct rtc *rtc)
{
    free(rtc);
}

int rtc_nmi_masked(const struct rtc *rtc)
{
    return rtc->nmi_masked;
}

int64_t rtc_unix_seconds(const struct rtc *rtc)
{
    return rtc_now_s(rtc, dev_clock_now(&rtc->clock), NULL);
}

void rtc_nvram_set(struct rtc *rtc, unsigned index, uint8_t value)
{
    if (index >= 0x0E && index < 0x80 && index != REG_CENTURY)
        rtc->cmos[index] = value;
}

/* spec/devices.md 4 */
#define RTC_SAVE_VERSION 1

int rtc_save(const struct rtc *rtc, struct dev_sec_writer *w)
{
    dev_sec_put_u32(w, RTC_SAVE_VERSION);
    dev_sec_put_bytes(w, rtc->cmos, sizeof(rtc->cmos));
    dev_sec_put_u8(w, rtc->index);
    dev_sec_put_u8(w, rtc->nmi_masked);
    dev_sec_put_u8(w, rtc->reg_c);
    dev_sec_put_u8(w, rtc->irq_level);
    dev_sec_put_u64(w, (uint64_t)rtc->base_s);
    dev_sec_put_u64(w, rtc->base_ns);
    dev_sec_put_u64(w, rtc->advanced_ns);
    return dev_sec_writer_status(w);
}

int rtc_restore(struct rtc *rtc, struct dev_sec_reader *r)
{
    struct rtc n = *rtc;
    dev_sec_get_version(r, RTC_SAVE_VERSION);
    dev_sec_get_bytes(r, n.cmos, sizeof(n.cmos));
    n.index = dev_sec_get_u8(r);
    if (n.index > 0x7F)
        dev_sec_fail(r, DEV_ECORRUPT, "index: expected 0-127, found %u", n.index);
    n.nmi_masked = dev_sec_get_bool(r, "nmi_masked");
    n.reg_c = dev_sec_get_u8(r);
    if (n.reg_c & 0x0F)
        dev_sec_fail(r, DEV_ECORRUPT, "register C: bits 0-3 are always 0, found 0x%02x", n.reg_c);
    n.irq_level = dev_sec_get_bool(r, "irq_level");
    n.base_s = (int64_t)dev_sec_get_u64(r);
    /* years 0-9999 keep the BCD century byte meaningful */
    if (!r->status && (n.base_s < -62135596800LL || n.base_s > 253402300799LL))
        dev_sec_fail(r, DEV_ECORRUPT, "base time %lld is outside years 1-9999",
                     (long long)n.base_s);
    n.base_ns = dev_sec_get_u64(r);
    n.advanced_ns = dev_sec_get_u64(r);
    if (!r->status && n.advanced_ns < n.base_ns)
        dev_sec_fail(r, DEV_ECORRUPT, "advanced_ns %llu before base_ns %llu",
                     (unsigned long long)n.advanced_ns, (unsigned long long)n.base_ns);
    if (!r->status && (n.cmos[REG_A] & 0x80))
        dev_sec_fail(r, DEV_ECORRUPT, "register A: UIP bit stored set");
    if (!r->status && n.irq_level != ((n.reg_c & C_IRQF) != 0))
        dev_sec_fail(r, DEV_ECORRUPT, "irq_level %u disagrees with register C 0x%02x", n.irq_level,
                     n.reg_c);
    if (dev_sec_end(r))
        return r->status;
    *rtc = n;
    dev_irq_set(&rtc->irq, rtc->irq_level);
    return DEV_OK;
}
