/*
 * test_decode_objdump.c - GNU objdump as a second oracle, on real code.
 *
 * Disassembles the 32-bit system libraries that gcc-multilib installs
 * (libc, libm, ld.so, libgcc_s) and checks that the decoder finds the same
 * length at every instruction objdump reports: about half a million
 * instructions of compiler- and hand-written code, x87 and SSE included.
 * Skipped: objdump's "(bad)", VEX/EVEX-encoded instructions (mnemonics
 * starting with 'v', not VERR/VERW) and the extensions decode.h lists as
 * refused (RTM, PKU, ...) when the decoder returns #UD for them. The test
 * is skipped when objdump or the libraries are missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode.h"

struct line {
    size_t off; /* into the byte stream */
    uint8_t len;
    char mnem[24];
};

static double decode_secs;
static long decode_count;

static int refused(const char *m)
{
    static const char *const list[] = {
        "xbegin",      "xabort",  "xend",      "xtest",         "rdpkru",           "wrpkru",
        "rdpid",       "clwb",    "xsavec",    "xsaves",        "xrstors",          "rdsspd",
        "incsspd",     "wrssd",   "wrussd",    "setssbsy",      "clrssbsy",         "rstorssp",
        "saveprevssp", "extrq",   "insertq",   "movntss",       "movntsd",          "clzero",
        "monitorx",    "mwaitx",  "gf2p8mulb", "gf2p8affineqb", "gf2p8affineinvqb", "movdiri",
        "movdir64b",   "invpcid", "encls",     "enclu",         "vmcall",           "vmmcall",
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (!strcmp(m, list[i]))
            return 1;
    return 0;
}

/* Returns instructions compared, or -1 if the library cannot be read. */
static long check_library(const char *path, unsigned *mismatches, unsigned *skipped)
{
    char cmd[512];
    if (access(path, R_OK) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "objdump -d -w %s 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;

    size_t cap = 1 << 22, nbytes = 0, nlines = 0, caplines = 1 << 19;
    uint8_t *bytes = malloc(cap);
    struct line *lines = malloc(caplines * sizeof *lines);
    assert_true(bytes && lines);
    char buf[1024];
    while (fgets(buf, sizeof buf, p)) {
        /* "  22150:\t55                   \tpush   %ebp" */
        char *t1 = strchr(buf, '\t');
        if (!t1 || t1 == buf || t1[-1] != ':')
            continue;
        char *t2 = strchr(t1 + 1, '\t');
        struct line ln;
        memset(&ln, 0, sizeof ln);
        ln.off = nbytes;
        char *s = t1 + 1;
        while (*s && *s != '\t' && *s != '\n') {
            unsigned v;
            int used;
            if (sscanf(s, "%2x%n", &v, &used) == 1 && used == 2) {
                if (nbytes == cap) {
                    cap *= 2;
                    bytes = realloc(bytes, cap);
                    assert_non_null(bytes);
                }
                bytes[nbytes++] = (uint8_t)v;
                ln.len++;
                s += 2;
            } else {
                s++;
            }
        }
        if (!t2 || ln.len == 0)
            continue; /* a continuation line or a label */
        sscanf(t2 + 1, "%23s", ln.mnem);
        if (nlines == caplines) {
            caplines *= 2;
            lines = realloc(lines, caplines * sizeof *lines);
            assert_non_null(lines);
        }
        lines[nlines++] = ln;
    }
    pclose(p);

    /* throughput: decode every instruction start, as a translator would */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned sink = 0;
    for (size_t i = 0; i < nlines; i++) {
        struct x86_insn in;
        size_t avail = nbytes - lines[i].off;
        x86_decode(bytes + lines[i].off, avail < 15 ? avail : 15, 1, &in);
        sink += in.len;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(sink > 0 || nlines == 0);
    decode_secs += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    decode_count += (long)nlines;

    long compared = 0;
    for (size_t i = 0; i < nlines; i++) {
        const struct line *ln = &lines[i];
        const char *m = ln->mnem;
        if (!strcmp(m, "(bad)") || (m[0] == 'v' && strcmp(m, "verr") && strcmp(m, "verw"))) {
            (*skipped)++;
            continue;
        }
        struct x86_insn in;
        size_t avail = nbytes - ln->off;
        int rc = x86_decode(bytes + ln->off, avail < 15 ? avail : 15, 1, &in);
        if (rc == X86_DEC_UD && refused(m)) {
            (*skipped)++;
            continue;
        }
        /* objdump prints FWAIT and the x87 control instruction after it
         * (FSTSW = 9B DF E0) as one; the CPU and the decoder see two */
        if (rc == X86_DEC_OK && in.len == 1 && bytes[ln->off] == 0x9b && ln->len > 1) {
            struct x86_insn in2;
            avail = nbytes - ln->off - 1;
            rc = x86_decode(bytes + ln->off + 1, avail < 15 ? avail : 15, 1, &in2);
            in2.len = (uint8_t)(in2.len + 1);
            in = in2;
        }
        compared++;
        int ok =
            (rc == X86_DEC_OK || (rc == X86_DEC_UD && in.kind == X86K_UD)) && in.len == ln->len;
        if (!ok) {
            if (*mismatches < 50) {
                char hx[64] = "";
                for (unsigned k = 0; k < ln->len && k < 15; k++)
                    sprintf(hx + 3 * k, "%02x ", bytes[ln->off + k]);
                print_message("MISMATCH %s: %s(%s): objdump len %u, decoder status %d len %u\n",
                              path, hx, m, ln->len, rc, in.len);
            }
            (*mismatches)++;
        }
    }
    free(bytes);
    free(lines);
    return compared;
}

static void test_decode_objdump_libraries(void **state)
{
    (void)state;
    static const char *const libs[] = {
        "/usr/lib32/libc.so.6",
        "/usr/lib32/libm.so.6",
        "/usr/lib32/ld-linux.so.2",
        "/usr/lib32/libgcc_s.so.1",
    };
    if (system("objdump --version >/dev/null 2>&1") != 0) {
        print_message("objdump not found\n");
        skip();
    }
    unsigned mismatches = 0, skipped = 0;
    long total = 0;
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        long n = check_library(libs[i], &mismatches, &skipped);
        if (n < 0) {
            print_message("%s: not readable, skipped\n", libs[i]);
            continue;
        }
        total += n;
    }
    if (total == 0) {
        print_message("no 32-bit libraries found (is gcc-multilib installed?)\n");
        skip();
    }
    print_message("objdump: %ld instructions compared, %u mismatches, %u skipped; "
                  "decoder: %.1f M instructions/s\n",
                  total, mismatches, skipped, (double)decode_count / decode_secs / 1e6);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_objdump_libraries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
