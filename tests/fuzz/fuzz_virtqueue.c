/*
 * fuzz_virtqueue - libFuzzer target for the virtio descriptor walk
 * (vmm/dev/virtqueue.h): the input chooses the queue size and ring
 * addresses and is the guest RAM; virtqueue_fuzz_walk pops, reads, writes
 * and pushes every chain. A crash, sanitizer report, leak or hang is a
 * bug; a refused ring is the guest's error and expected.
 */
#include <stdint.h>

#include "virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)virtqueue_fuzz_walk(data, size);
    return 0;
}
