/*
 * rtc.h - the CMOS real-time clock and NVRAM (rtc.c).
 *
 * Lifecycle: rtc_create(&irq8, &clock, unix_seconds) where unix_seconds is
 * the date and time the RTC shows at the current virtual clock value (the
 * board takes it from the host at `vmpack create`, or a fixed value in
 * deterministic mode) -> map rtc_io_ops at 0x70 (2 ports, opaque rtc) ->
 * pit-like rtc_next_deadline_ns / rtc_advance -> rtc_destroy().
 */
#ifndef VMP_DEV_RTC_H
#define VMP_DEV_RTC_H

#include "dev.h"

struct rtc;

struct rtc *rtc_create(const struct dev_irq *irq8, const struct dev_clock *clock,
                       int64_t unix_seconds);
void rtc_destroy(struct rtc *rtc);

extern const struct dev_io_ops rtc_io_ops;

uint64_t rtc_next_deadline_ns(const struct rtc *rtc);
void rtc_advance(struct rtc *rtc, uint64_t now_ns);

/* Port 0x70 bit 7: NMIs are masked (the board has no NMI source yet). */
int rtc_nmi_masked(const struct rtc *rtc);
/* Seconds since 1970 the RTC shows now (after guest writes too). */
int64_t rtc_unix_seconds(const struct rtc *rtc);
/* NVRAM bytes 0x0E-0x7F for the board's setup (e.g. memory size at 0x34);
 * index < 0x0E or >= 0x80 are ignored. */
void rtc_nvram_set(struct rtc *rtc, unsigned index, uint8_t value);

int rtc_save(const struct rtc *rtc, struct dev_sec_writer *w);
int rtc_restore(struct rtc *rtc, struct dev_sec_reader *r);

#endif
