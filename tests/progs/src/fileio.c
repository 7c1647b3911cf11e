/* File I/O: creates files in the directory given as argv[1], reads them
 * back, stats them, lists the directory, renames, seeks, removes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *what)
{
    DIR *d = opendir(".");
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    printf("%s:", what);
    for (int i = 0; i < n; i++) {
        struct stat st;
        lstat(names[i], &st);
        printf(" %s(%s,%lld)", names[i], S_ISDIR(st.st_mode) ? "dir" : "file",
               S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) != 0) {
        fprintf(stderr, "usage: fileio DIR\n");
        return 2;
    }
    int fd0;
    FILE *f = fopen("data.txt", "w");
    for (int i = 0; i < 1000; i++)
        fprintf(f, "line %d %x\n", i, i * i);
    fclose(f);
    f = fopen("data.txt", "r");
    char line[64];
    long sum = 0;
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        sum += atoi(line + 5);
        lines++;
    }
    fclose(f);
    printf("read %d lines sum %ld\n", lines, sum);
    fd0 = open("data.txt", O_RDONLY);
    struct stat mst;
    fstat(fd0, &mst);
    const char *m = mmap(NULL, (size_t)mst.st_size, PROT_READ, MAP_PRIVATE, fd0, 0);
    unsigned msum = 0;
    for (off_t i = 0; i < mst.st_size; i++)
        msum = msum * 31 + (unsigned char)m[i];
    printf("mmap %.9s... %u\n", m, msum);
    const char *m2 = mmap(NULL, 100, PROT_READ, MAP_PRIVATE, fd0, 8192);
    printf("mmap at 8192: %.12s\n", m2);
    munmap((void *)m, (size_t)mst.st_size);
    munmap((void *)m2, 100);
    close(fd0);

    int fd = open("bin.dat", O_CREAT | O_RDWR | O_TRUNC, 0640);
    unsigned char buf[10000];
    for (int i = 0; i < (int)sizeof buf; i++)
        buf[i] = (unsigned char)(i * 13);
    printf("write %zd\n", write(fd, buf, sizeof buf));
    printf("lseek %lld\n", (long long)lseek(fd, 5000, SEEK_SET));
    unsigned char b2[16];
    ssize_t got = read(fd, b2, sizeof b2);
    printf("read %zd %u %u\n", got, b2[0], b2[15]);
    got = pread(fd, b2, 4, 9998);
    printf("pread %zd %u\n", got, b2[1]);
    struct stat st;
    fstat(fd, &st);
    printf("fstat size %lld mode %o regular %d\n", (long long)st.st_size, st.st_mode & 0777,
           S_ISREG(st.st_mode));
    ftruncate(fd, 1234);
    fstat(fd, &st);
    printf("truncated %lld\n", (long long)st.st_size);
    close(fd);

    mkdir("sub", 0755);
    rename("bin.dat", "sub/moved.dat");
    symlink("data.txt", "link");
    list("after");
    char target[64];
    ssize_t n = readlink("link", target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    printf("readlink %s\n", target);
    int r = stat("sub/moved.dat", &st);
    printf("stat sub/moved.dat %d size %lld\n", r, (long long)st.st_size);
    r = stat("nope", &st);
    printf("missing %d errno %d\n", r, errno);
    printf("access %d %d\n", access("data.txt", R_OK), access("nope", F_OK));
    r = open("nope/x", O_RDONLY);
    printf("open missing %d errno %d\n", r, errno);
    char cwd[4096];
    printf("getcwd ends with argv %d\n",
           getcwd(cwd, sizeof cwd) && strstr(cwd, strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1
                                                                        : argv[1]) != NULL);
    struct timespec ts[2] = {{1000000000, 0}, {1234567890, 500}};
    utimensat(AT_FDCWD, "data.txt", ts, 0);
    stat("data.txt", &st);
    printf("mtime %lld\n", (long long)st.st_mtime);
    int p[2];
    pipe(p);
    write(p[1], "pipe!", 5);
    char pb[8] = {0};
    read(p[0], pb, 5);
    printf("pipe %s\n", pb);
    fflush(stdout);
    int d = dup(1);
    dprintf(d, "dup ok\n");
    close(d);
    unlink("sub/moved.dat");
    rmdir("sub");
    unlink("link");
    unlink("data.txt");
    list("end");
    return 0;
}
