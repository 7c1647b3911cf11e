/* fake_cpu.h - see fake_cpu.c. */
#ifndef VMP_FAKE_CPU_H
#define VMP_FAKE_CPU_H

#include <stdint.h>

struct cpu;
struct fake_tls {
    int called;
    unsigned entry;
    uint32_t base, limit;
    unsigned flags;
};

struct cpu *fake_cpu_create(void);
void fake_cpu_destroy(struct cpu *c);
const struct fake_tls *fake_cpu_last_tls(struct cpu *c);
int fake_cpu_state_changed(struct cpu *c);

#endif
