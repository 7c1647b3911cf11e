/* String routines and stdio formatting; malloc/realloc of large blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(void)
{
    static const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "kiwi",
                                  "apricot", "grape", "lemon", "lime", "mango", "date"};
    enum { NW = sizeof words / sizeof words[0] };
    const char *w[NW];
    memcpy(w, words, sizeof w);
    qsort(w, NW, sizeof w[0], cmp_str);
    for (int i = 0; i < NW; i++)
        printf("%s%c", w[i], i + 1 < NW ? ' ' : '\n');

    char *big = malloc(1 << 20);
    for (int i = 0; i < (1 << 20); i++)
        big[i] = (char)('a' + (i * 7 + i / 13) % 26);
    big[(1 << 20) - 1] = 0;
    char *copy = malloc(1 << 20);
    memcpy(copy, big, 1 << 20);
    memmove(copy + 3, copy, 1000);
    printf("strlen %zu cmp %d chr %td rchr %td\n", strlen(big), strcmp(big, copy) > 0,
           strchr(big, 'z') - big, strrchr(big, 'q') - big);
    char *hit = strstr(big, "xyz");
    printf("strstr %td\n", hit ? hit - big : -1);
    /* Grow by realloc: glibc moves mmapped chunks with mremap. */
    size_t n = 1 << 20;
    for (int i = 0; i < 4; i++) {
        n *= 2;
        big = realloc(big, n);
        memset(big + n / 2, 'a' + i, n / 2);
    }
    printf("realloc %zu %c %c\n", n, big[n - 1], big[(1 << 20) + 5]);
    free(big);
    free(copy);

    char line[256];
    snprintf(line, sizeof line, "%5d|%-5s|%08.3f|%+e|%x|%o|%c|%%|%.3s|%10.4g", 42, "ab",
             3.14159, -12345.678, 0xbeefu, 0777u, 'Z', "truncate", 1.0 / 3);
    puts(line);
    printf("strtol %ld %lu %lld %f\n", strtol("-0x7f", NULL, 16), strtoul("777", NULL, 8),
           strtoll("9223372036854775807", NULL, 10), strtod("6.02214076e23", NULL));
    char tok[] = "alpha,beta;;gamma,delta";
    for (char *t = strtok(tok, ",;"); t; t = strtok(NULL, ",;"))
        printf("[%s]", t);
    printf("\n");
    fprintf(stderr, "to stderr %d %s\n", 7, "ok");
    return 0;
}
