/* argv, the environment, the auxiliary vector, exit status argc + 40. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>

extern char **environ;

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "VMP_TEST_", 9))
            printf("env %s\n", *e);
    printf("getenv %s\n", getenv("VMP_TEST_A") ? getenv("VMP_TEST_A") : "(null)");
    printf("pagesz %lu platform %s\n", getauxval(AT_PAGESZ), (char *)getauxval(AT_PLATFORM));
    struct utsname u;
    uname(&u);
    printf("sysname %s\n", u.sysname);
    fflush(stdout);
    return argc + 40;
}
