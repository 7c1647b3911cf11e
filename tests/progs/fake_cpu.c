/*
 * fake_cpu.c - a stand-in for the user-mode memory half of vmm/cpu/cpu.h,
 * so that x86run's loader and system call layer can be unit-tested without
 * the translator: a 4 GiB PROT_NONE reservation as the view, host mprotect
 * as the guest mapping, and a record of cpu_user_set_tls calls.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu.h"
#include "fake_cpu.h"

struct cpu {
    uint8_t *view;
    struct vmp_x86_state state;
    int state_changed;
    struct fake_tls last_tls;
};

struct cpu *fake_cpu_create(void)
{
    struct cpu *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->view = mmap(NULL, 1ull << 32, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (c->view == MAP_FAILED) {
        free(c);
        return NULL;
    }
    return c;
}

void fake_cpu_destroy(struct cpu *c)
{
    if (!c)
        return;
    munmap(c->view, 1ull << 32);
    free(c);
}

const struct fake_tls *fake_cpu_last_tls(struct cpu *c) { return &c->last_tls; }
int fake_cpu_state_changed(struct cpu *c) { return c->state_changed; }

struct vmp_x86_state *cpu_state(struct cpu *c) { return &c->state; }
void cpu_state_changed(struct cpu *c) { c->state_changed++; }

int cpu_user_map(struct cpu *c, uint32_t gla, uint64_t len, int prot, int fd, uint64_t off)
{
    (void)fd;
    (void)off;
    void *p = mmap(c->view + gla, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? -1 : 0;
}

int cpu_user_unmap(struct cpu *c, uint32_t gla, uint64_t len)
{
    void *p = mmap(c->view + gla, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? -1 : 0;
}

int cpu_user_protect(struct cpu *c, uint32_t gla, uint64_t len, int prot)
{
    return mprotect(c->view + gla, len, prot);
}

void *cpu_user_ptr(struct cpu *c, uint32_t gla) { return c->view + gla; }

int cpu_user_set_tls(struct cpu *c, unsigned entry, uint32_t base, uint32_t limit,
                     unsigned flags)
{
    c->last_tls = (struct fake_tls){1, entry, base, limit, flags};
    return 0;
}
