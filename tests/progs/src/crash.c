/* Ends by a fault chosen by argv[1]: segv, div0, ud2, abort, int3, int81,
 * hlt, cli, exit;
 * or "efault": system calls with bad pointers fail with EFAULT. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    printf("crash: %s\n", what);
    fflush(stdout);
    if (!strcmp(what, "segv"))
        *(volatile int *)(uintptr_t)atoi("16") = 1;
    if (!strcmp(what, "div0")) {
        volatile int z = 0;
        printf("%d\n", 100 / z);
    }
    if (!strcmp(what, "ud2"))
        __asm__ volatile("ud2");
    if (!strcmp(what, "abort"))
        abort();
    if (!strcmp(what, "int3"))
        __asm__ volatile("int3");
    if (!strcmp(what, "int81"))     /* a DPL 0 gate: #GP */
        __asm__ volatile("int $0x81");
    if (!strcmp(what, "hlt"))       /* privileged at CPL 3: #GP */
        __asm__ volatile("hlt");
    if (!strcmp(what, "cli"))       /* IOPL 0: #GP */
        __asm__ volatile("cli");
    if (!strcmp(what, "efault")) {
        errno = 0;
        long r = write(1, (const void *)(uintptr_t)atoi("16"), 5);
        printf("write %ld errno %d\n", r, errno);
        int fd = open("/proc/self/cmdline", O_RDONLY);
        errno = 0;
        r = read(fd, (void *)0x1000, 5);
        printf("read %ld errno %d\n", r, errno);
        errno = 0;
        r = open((const char *)8, O_RDONLY);
        printf("open %ld errno %d\n", r, errno);
        /* A buffer that starts mapped and runs into unmapped memory: the
         * kernel writes the mapped part and returns its length. */
        char *p = sbrk(0);
        FILE *t = tmpfile();
        errno = 0;
        r = write(fileno(t), p - 16, 1 << 20);
        printf("write across the break %ld errno %d\n", r, errno);
        return 0;
    }
    if (!strcmp(what, "exit"))
        exit(3);
    return 0;
}
