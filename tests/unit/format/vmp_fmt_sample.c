/* vmp_fmt_sample - writes the sample container of fmt_test.c to argv[1]
 * (variant argv[2], default 0), for shell tests and the fuzz corpus;
 * argv[2] "small" or "small-signed" writes the small sample instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_test.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: vmp_fmt_sample FILE [VARIANT]\n");
        return 2;
    }
    char err[512];
    int rc;
    if (argc > 2 && !strncmp(argv[2], "small", 5))
        rc = sample_write_small(argv[1], !strcmp(argv[2], "small-signed"), err, sizeof err);
    else
        rc = sample_write(argv[1], argc > 2 ? (uint32_t)atoi(argv[2]) : 0, err, sizeof err);
    if (rc) {
        fprintf(stderr, "vmp_fmt_sample: %s: %s\n", vmp_strerror(rc), err);
        return 1;
    }
    return 0;
}
