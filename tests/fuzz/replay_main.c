/*
 * replay_main.c - runs a libFuzzer target over files and folders of inputs
 * without libFuzzer (gcc and plain builds): every regression fixture and
 * seed is replayed under the build's sanitizers, if any. Exit 0 when every
 * input was read, 1 if a path could not be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* optional, as with libFuzzer */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay(const char *path, unsigned *n)
{
    struct stat sb;
    if (stat(path, &sb)) {
        fprintf(stderr, "replay: %s: cannot stat\n", path);
        return 1;
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        int rc = 0;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rc |= replay(sub, n);
        }
        if (d)
            closedir(d);
        return rc;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return 1;
    uint8_t *b = malloc((size_t)sb.st_size + 1);
    size_t len = b ? fread(b, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    if (!b)
        return 1;
    LLVMFuzzerTestOneInput(b, len);
    free(b);
    (*n)++;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned n = 0;
    int rc = 0;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        rc |= replay(argv[i], &n);
    printf("replayed %u inputs\n", n);
    return rc || n == 0;
}
