/*
 * xlat_harness.h - the user-mode fixture shared by test_xlat_user.c and
 * test_xlat_edge.c: a CPU_MODE_USER cpu with page 0 RW (wrap-around
 * tests), code at CODE (0x2000 bytes), data at DATA (64 KiB) and a stack
 * below STACK_TOP; guest code is loaded at CODE and run to its first exit.
 * Include after <cmocka.h>.
 */
#ifndef VMP_TESTS_XLAT_HARNESS_H
#define VMP_TESTS_XLAT_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "cpu.h"

#define CODE 0x1000u
#define DATA 0x10000u
#define STACK_TOP 0x180000u

#define FEAT_I686_EDX (1u << 0 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 15) /* FPU TSC MSR CX8 CMOV */
#define FEAT_SSE2_EDX (FEAT_I686_EDX | 1u << 23 | 1u << 24 | 1u << 25 | 1u << 26)

/* A "GenuineIntel" family 6 profile with CPUID.1:EDX = edx1. */
void make_profile(struct vmp_cpu_profile *p, uint32_t edx1);
/* A user-mode cpu with the layout above mapped. */
struct cpu *new_cpu(uint32_t edx1);
/* Copy code to CODE (protection prot afterwards), EIP = CODE, ESP = STACK_TOP;
 * may be called again on the same cpu. */
void load(struct cpu *cpu, const uint8_t *code, size_t n, int prot);
/* new_cpu + load read/execute + one cpu_run into *ex. */
struct cpu *run_code(const uint8_t *code, size_t n, uint32_t edx1, struct cpu_exit *ex);
uint32_t rd32(struct cpu *cpu, uint32_t gla);
void wr32(struct cpu *cpu, uint32_t gla, uint32_t v);
/* The run stopped at the INT 0x80 that ends the code (else prints why). */
void assert_int80(struct cpu *cpu, const struct cpu_exit *ex, const uint8_t *code, size_t n);

#define R(cpu, r) (cpu_state(cpu)->gpr[VMP_##r])
#define RUN(name, ex) run_code(code_##name, sizeof code_##name, FEAT_SSE2_EDX, &(ex))

#endif
