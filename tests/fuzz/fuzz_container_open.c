/*
 * fuzz_container_open - libFuzzer target for the container reader: open
 * the input as a container (spec/container.md), then read everything it
 * refers to: config, every chunk of every image, sections (and the x86-cpu
 * decode), boot blobs, signatures, statistics, a full verify. Any crash,
 * sanitizer report or leak is a bug; refusals are expected.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t k = write(fd, data + done, size - done);
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    vmp_reader *r;
    if (done == size && !vmp_reader_create(&r)) {
        if (!vmp_reader_open_fd(r, fd))
            fuzz_read_all(r);
        (void)vmp_reader_errmsg(r);
        vmp_reader_destroy(r);
    }
    close(fd);
    return 0;
}
