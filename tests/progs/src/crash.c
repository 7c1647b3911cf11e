/* Ends by a fault chosen by argv[1]: segv, div0, ud2, abort, int3, exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    printf("crash: %s\n", what);
    fflush(stdout);
    if (!strcmp(what, "segv"))
        *(volatile int *)16 = 1;
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
    if (!strcmp(what, "exit"))
        exit(3);
    return 0;
}
