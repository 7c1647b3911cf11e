/*
 * kvm-check.c - boot the example guest with vmpack's loader (vmm/loader.c)
 * on KVM instead of the translator, to check the machine contract of
 * spec/machine.md on its own: the 32-bit entry state, the zero page, e820,
 * the ACPI tables (virtio-mmio discovery through LNRO0005, power-off through
 * PM1a_CNT), with a real Linux.
 *
 * KVM provides the CPU, the 8259 PICs and the 8254 PIT (in-kernel); this
 * file models only what the check needs: a 16550 on COM1 (enough for the
 * 8250 driver and an interactive shell), CMOS register reads, the PM1
 * registers, and virtio-mmio windows that read as zero (no device: the
 * guest's virtio_mmio driver says "Wrong magic value", which proves it found
 * the window in the DSDT).
 *
 * usage: kvm-check VMLINUZ INITRD "CMDLINE" [COMMANDS]
 *   COMMANDS (default "uname -m") are typed into the guest's shell after the
 *   ready marker, followed by "poweroff -f". Exit status 0 when the guest
 *   powered off through ACPI S5, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loader.h"
#include "machine.h"

#define RAM_BYTES (256ull << 20)

static int vm_fd;
static struct timespec t_start;

static double elapsed_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t_start.tv_sec) + (t.tv_nsec - t_start.tv_nsec) / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "kvm-check: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    struct stat st;
    if (fstat(fileno(f), &st) < 0)
        die(path);
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        die(path);
    fclose(f);
    *len = (size_t)st.st_size;
    return buf;
}

/* ---- a 16550A on COM1, just enough for Linux's 8250 driver ---- */
static struct {
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
    int thre_pending;
    int irq_level;
    char rx[4096];
    size_t rx_head, rx_len;
} uart;

/* Console output, kept for the markers the check waits for. */
static char outbuf[1 << 20];
static size_t outlen;

static void uart_update_irq(void)
{
    int level = ((uart.ier & 1) && uart.rx_len) || ((uart.ier & 2) && uart.thre_pending);
    if (!(uart.mcr & 0x08))
        level = 0; /* OUT2 gates the ISA IRQ */
    if (level != uart.irq_level) {
        struct kvm_irq_level l = {.irq = MACHINE_IRQ_COM1, .level = (uint32_t)level};
        if (ioctl(vm_fd, KVM_IRQ_LINE, &l) < 0)
            die("KVM_IRQ_LINE");
        uart.irq_level = level;
    }
}

static uint8_t uart_in(unsigned reg)
{
    uint8_t v = 0;
    switch (reg) {
    case 0:
        if (uart.lcr & 0x80)
            return uart.dll;
        if (uart.rx_len) {
            v = (uint8_t)uart.rx[uart.rx_head];
            uart.rx_head = (uart.rx_head + 1) % sizeof uart.rx;
            uart.rx_len--;
        }
        break;
    case 1:
        return uart.lcr & 0x80 ? uart.dlm : uart.ier;
    case 2:
        if ((uart.ier & 1) && uart.rx_len) {
            v = 0x04;
        } else if ((uart.ier & 2) && uart.thre_pending) {
            v = 0x02;
            uart.thre_pending = 0;
        } else {
            v = 0x01;
        }
        if (uart.fcr & 1)
            v |= 0xC0;
        break;
    case 3:
        return uart.lcr;
    case 4:
        return uart.mcr;
    case 5:
        v = 0x60 | (uart.rx_len ? 1 : 0);
        break;
    case 6:
        if (uart.mcr & 0x10)
            v = (uint8_t)((uart.mcr & 0x02) << 3 | (uart.mcr & 0x01) << 5 |
                          (uart.mcr & 0x04) << 4 | (uart.mcr & 0x08) << 4);
        else
            v = 0xB0;
        break;
    case 7:
        return uart.scr;
    }
    uart_update_irq();
    return v;
}

static void uart_out(unsigned reg, uint8_t v)
{
    switch (reg) {
    case 0:
        if (uart.lcr & 0x80) {
            uart.dll = v;
            return;
        }
        if (!(uart.mcr & 0x10)) {
            putchar(v);
            if (outlen < sizeof outbuf - 1)
                outbuf[outlen++] = (char)v;
        }
        uart.thre_pending = 1;
        break;
    case 1:
        if (uart.lcr & 0x80) {
            uart.dlm = v;
            return;
        }
        if ((v & 2) && !(uart.ier & 2))
            uart.thre_pending = 1;
        uart.ier = v & 0x0F;
        break;
    case 2:
        uart.fcr = v;
        break;
    case 3:
        uart.lcr = v;
        break;
    case 4:
        uart.mcr = v & 0x1F;
        break;
    case 7:
        uart.scr = v;
        break;
    }
    uart_update_irq();
}

static void uart_type(const char *s)
{
    for (; *s && uart.rx_len < sizeof uart.rx; s++) {
        uart.rx[(uart.rx_head + uart.rx_len) % sizeof uart.rx] = *s;
        uart.rx_len++;
    }
    uart_update_irq();
}

/* ---- CMOS: a fixed, valid time (2026-01-01 00:00:00, BCD, 24 h) ---- */
static uint8_t cmos_index;

static uint8_t cmos_read(void)
{
    switch (cmos_index & 0x7F) {
    case 0x07: return 0x01;  /* day */
    case 0x08: return 0x01;  /* month */
    case 0x09: return 0x26;  /* year */
    case 0x0A: return 0x26;  /* divider, rate; UIP clear */
    case 0x0B: return 0x02;  /* 24 h, BCD */
    case 0x0D: return 0x80;  /* valid RAM and time */
    case 0x32: return 0x20;  /* century */
    default: return 0;
    }
}

static void set_seg(struct kvm_segment *k, const struct vmp_x86_seg *s)
{
    memset(k, 0, sizeof *k);
    k->base = s->base;
    k->limit = s->limit;
    k->selector = s->selector;
    k->type = s->attr & 0xF;
    k->s = (s->attr >> 4) & 1;
    k->dpl = (s->attr >> 5) & 3;
    k->present = (s->attr >> 7) & 1;
    k->avl = (s->attr >> 8) & 1;
    k->l = (s->attr >> 9) & 1;
    k->db = (s->attr >> 10) & 1;
    k->g = (s->attr >> 11) & 1;
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

static void dump(int vcpu, const uint8_t *ram)
{
    struct kvm_regs r;
    struct kvm_sregs sr;
    if (ioctl(vcpu, KVM_GET_REGS, &r) < 0 || ioctl(vcpu, KVM_GET_SREGS, &sr) < 0)
        return;
    printf("eip %llx eflags %llx cr0 %llx cr3 %llx cr4 %llx\n", r.rip, r.rflags, sr.cr0, sr.cr3,
           sr.cr4);
    printf("eax %llx ebx %llx ecx %llx edx %llx esi %llx edi %llx esp %llx ebp %llx\n", r.rax,
           r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp);
    if (!(sr.cr0 & 0x80000000u) && r.rip + 16 < RAM_BYTES)
        for (int i = 0; i < 16; i++)
            printf("%02x%s", ram[r.rip + i], i == 15 ? "\n" : " ");
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: kvm-check VMLINUZ INITRD CMDLINE [COMMANDS]\n");
        return 2;
    }
    const char *commands = argc > 4 ? argv[4] : "uname -m";
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_alarm);
    alarm(getenv("KVM_CHECK_TIMEOUT") ? (unsigned)atoi(getenv("KVM_CHECK_TIMEOUT")) : 180);
    clock_gettime(CLOCK_MONOTONIC, &t_start);

    size_t kernel_bytes, initrd_bytes;
    uint8_t *kernel = read_file(argv[1], &kernel_bytes);
    uint8_t *initrd = read_file(argv[2], &initrd_bytes);

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("/dev/kvm");
    vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm_fd < 0)
        die("KVM_CREATE_VM");
    if (ioctl(vm_fd, KVM_SET_TSS_ADDR, 0xFFFBD000ul) < 0)
        die("KVM_SET_TSS_ADDR");
    if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
        die("KVM_CREATE_IRQCHIP");
    struct kvm_pit_config pit = {.flags = 0};
    if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
        die("KVM_CREATE_PIT2");

    uint8_t *ram = mmap(NULL, RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ram == MAP_FAILED)
        die("mmap");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_BYTES, .userspace_addr = (uintptr_t)ram};
    if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION");

    struct loader_linux guest = {.kernel = kernel, .kernel_bytes = kernel_bytes,
                                 .initrd = initrd, .initrd_bytes = initrd_bytes,
                                 .cmdline = argv[3], .virtio_slots = 1u << MACHINE_SLOT_BLK0};
    struct vmp_x86_state st;
    struct loader_info info;
    char err[256];
    if (loader_boot_linux(ram, RAM_BYTES, &guest, &st, &info, err, sizeof err)) {
        fprintf(stderr, "kvm-check: %s\n", err);
        return 1;
    }
    fprintf(stderr, "kvm-check: protocol %u.%02u kernel 0x%x+0x%x runtime 0x%x-0x%x initrd 0x%x+0x%x\n",
            info.image.protocol >> 8, info.image.protocol & 0xFF, info.kernel_gpa, info.kernel_bytes,
            info.runtime_start_gpa, info.runtime_end_gpa, info.initrd_gpa, info.initrd_bytes);

    int vcpu = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int run_bytes = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, (size_t)run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");

    struct {
        struct kvm_cpuid2 c;
        struct kvm_cpuid_entry2 e[100];
    } cpuid = {.c.nent = 100};
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
        die("KVM_GET_SUPPORTED_CPUID");
    /* No RDRAND/RDSEED: this host's KVM cannot run them in the guest, and
     * vmpack's i686 profile has neither. */
    for (uint32_t i = 0; i < cpuid.c.nent; i++) {
        if (cpuid.e[i].function == 1)
            cpuid.e[i].ecx &= ~(1u << 30);
        if (cpuid.e[i].function == 7 && cpuid.e[i].index == 0)
            cpuid.e[i].ebx &= ~(1u << 18);
    }
    if (ioctl(vcpu, KVM_SET_CPUID2, &cpuid) < 0)
        die("KVM_SET_CPUID2");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS");
    set_seg(&sregs.cs, &st.seg[VMP_CS]);
    set_seg(&sregs.ds, &st.seg[VMP_DS]);
    set_seg(&sregs.es, &st.seg[VMP_ES]);
    set_seg(&sregs.ss, &st.seg[VMP_SS]);
    set_seg(&sregs.fs, &st.seg[VMP_FS]);
    set_seg(&sregs.gs, &st.seg[VMP_GS]);
    set_seg(&sregs.ldt, &st.ldtr);
    set_seg(&sregs.tr, &st.tr);
    sregs.gdt.base = st.gdtr.base;
    sregs.gdt.limit = st.gdtr.limit;
    sregs.idt.base = st.idtr.base;
    sregs.idt.limit = st.idtr.limit;
    sregs.cr0 = st.cr0;
    sregs.cr3 = st.cr3;
    sregs.cr4 = st.cr4;
    sregs.efer = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs regs = {0};
    regs.rax = st.gpr[VMP_EAX];
    regs.rcx = st.gpr[VMP_ECX];
    regs.rdx = st.gpr[VMP_EDX];
    regs.rbx = st.gpr[VMP_EBX];
    regs.rsp = st.gpr[VMP_ESP];
    regs.rbp = st.gpr[VMP_EBP];
    regs.rsi = st.gpr[VMP_ESI];
    regs.rdi = st.gpr[VMP_EDI];
    regs.rip = st.eip;
    regs.rflags = st.eflags;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");

    int typed = 0;
    double t_ready = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR && timed_out) {
                printf("\nkvm-check: FAIL: timeout\n");
                dump(vcpu, ram);
                return 2;
            }
            if (errno == EINTR)
                continue;
            die("KVM_RUN");
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
                uint16_t port = run->io.port;
                int out = run->io.direction == KVM_EXIT_IO_OUT;
                uint32_t v = 0;
                memcpy(&v, data, run->io.size);
                if (port >= MACHINE_COM1_PORT && port < MACHINE_COM1_PORT + 8) {
                    if (out)
                        uart_out(port - MACHINE_COM1_PORT, (uint8_t)v);
                    else
                        data[0] = uart_in(port - MACHINE_COM1_PORT);
                } else if (port == MACHINE_RTC_PORT) {
                    if (out)
                        cmos_index = (uint8_t)v;
                    else
                        data[0] = cmos_index;
                } else if (port == MACHINE_RTC_PORT + 1) {
                    if (!out)
                        data[0] = cmos_read();
                } else if (port == MACHINE_ACPI_PM1A_CNT_PORT && out) {
                    unsigned typ = (v & MACHINE_ACPI_PM1_CNT_SLP_TYP_MASK) >>
                                   MACHINE_ACPI_PM1_CNT_SLP_TYP_SHIFT;
                    if ((v & MACHINE_ACPI_PM1_CNT_SLP_EN) && typ == MACHINE_ACPI_SLP_TYP_S5) {
                        printf("\nkvm-check: ACPI S5 power off after %.2f s\n", elapsed_s());
                        int ok = strstr(outbuf, "LNRO0005") || strstr(outbuf, "virtio-mmio");
                        printf("kvm-check: ready marker at %.2f s; virtio-mmio window %s\n", t_ready,
                               ok ? "probed by the guest" : "NOT probed");
                        return ok && t_ready > 0 ? 0 : 1;
                    }
                } else if (!out) {
                    memset(data, 0xFF, run->io.size);
                }
            }
            break;
        }
        case KVM_EXIT_MMIO:
            if (!run->mmio.is_write)
                memset(run->mmio.data, 0, sizeof run->mmio.data);
            break;
        case KVM_EXIT_SHUTDOWN:
            printf("\nkvm-check: FAIL: shutdown (triple fault or reset) after %.2f s\n", elapsed_s());
            return 1;
        case KVM_EXIT_HLT:
            printf("\nkvm-check: FAIL: HLT exit\n");
            return 1;
        default:
            printf("\nkvm-check: FAIL: exit reason %u (suberror %u) after %.2f s\n",
                   run->exit_reason,
                   run->exit_reason == KVM_EXIT_INTERNAL_ERROR ? run->internal.suberror : 0,
                   elapsed_s());
            dump(vcpu, ram);
            return 1;
        }
        if (!typed && strstr(outbuf, "vmpack-guest: ready")) {
            t_ready = elapsed_s();
            char line[4096];
            snprintf(line, sizeof line, "%s\npoweroff -f\n", commands);
            uart_type(line);
            typed = 1;
        }
    }
}
