/* board_fx.h - the fixture test_board.c and test_board_det.c share: a
 * board without a CPU over 1 MiB of RAM, its console on two pipes, its
 * clock the instruction-count source over a counter the test moves, and
 * the saved sections kept by name. Include after <cmocka.h>. */
#ifndef VMP_TEST_BOARD_FX_H
#define VMP_TEST_BOARD_FX_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"

#define RAM_BYTES (1u << 20)

struct fx {
    struct board *b;
    const struct cpu_io_ops *io;
    struct vclock clock;
    _Atomic uint64_t icount; /* the clock's source */
    uint8_t *ram;
    int in[2], out[2];      /* console: the test writes in[1], reads out[0] */
    struct blk_mem *disk;   /* destroyed with the fixture, if not NULL */
    int kicks;              /* cfg.kick calls */
    uint64_t last_deadline; /* cfg.det_deadline's last argument */
    int deadline_calls;
};

static inline void fx_kick(void *opaque)
{
    struct fx *f = opaque;

    f->kicks++;
}

static inline void fx_deadline(void *opaque, uint64_t guest_ns)
{
    struct fx *f = opaque;

    f->last_deadline = guest_ns;
    f->deadline_calls++;
}

/* A board from cfg (the test's devices and mode) and disk (NULL, or the
 * blk_mem behind cfg->disks[0]); RAM, the clock (start_ns + icount *
 * ns_per_insn), the console and the callbacks are the fixture's. */
static inline struct fx *fx_create(struct board_config *cfg, struct blk_mem *disk,
                                   uint64_t start_ns, uint32_t ns_per_insn)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];

    assert_non_null(f);
    f->ram = calloc(1, RAM_BYTES);
    assert_non_null(f->ram);
    f->disk = disk;
    assert_int_equal(pipe(f->in), 0);
    assert_int_equal(pipe(f->out), 0);
    fcntl(f->out[0], F_SETFL, O_NONBLOCK);
    vclock_init_icount(&f->clock, start_ns, &f->icount, ns_per_insn);
    cfg->ram = f->ram;
    cfg->ram_bytes = RAM_BYTES;
    cfg->clock = &f->clock;
    cfg->console_in_fd = f->in[0];
    cfg->console_out_fd = f->out[1];
    cfg->console_err_fd = -1;
    cfg->kick = fx_kick;
    cfg->kick_opaque = f;
    if (cfg->deterministic)
        cfg->det_deadline = fx_deadline;
    if (board_create(cfg, &f->b, err, sizeof err) != 0)
        fail_msg("board_create: %s", err);
    f->io = board_cpu_io_ops();
    return f;
}

static inline void fx_destroy(struct fx *f)
{
    board_destroy(f->b);
    blk_mem_destroy(f->disk);
    close(f->in[0]);
    if (f->in[1] >= 0)
        close(f->in[1]);
    close(f->out[0]);
    close(f->out[1]);
    free(f->ram);
    free(f);
}

/* arch/x86/kernel/i8259.c init_8259A: vectors 0x30 and 0x38, all unmasked */
static inline void fx_pic_init(struct fx *f)
{
    static const uint8_t seq[][2] = {{0x21, 0xFF}, {0xA1, 0xFF}, {0x20, 0x11}, {0x21, 0x30},
                                     {0x21, 0x04}, {0x21, 0x01}, {0xA0, 0x11}, {0xA1, 0x38},
                                     {0xA1, 0x02}, {0xA1, 0x01}, {0x21, 0x00}, {0xA1, 0x00}};
    size_t i;

    for (i = 0; i < sizeof seq / sizeof seq[0]; i++)
        f->io->port_out(f->b, seq[i][0], 1, seq[i][1]);
}

/* The sections of a board_save, by name (board_section_sink and _find). */
struct secs {
    unsigned n;
    char name[16][24];
    uint8_t data[16][1024];
    size_t len[16];
    const char *drop; /* a section sec_find pretends is absent */
};

static inline int sec_sink(void *ctx, const char *name, const void *data, size_t len)
{
    struct secs *s = ctx;

    assert_true(s->n < 16 && len <= sizeof s->data[0]);
    snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
    memcpy(s->data[s->n], data, len);
    s->len[s->n++] = len;
    return 0;
}

static inline int sec_find(void *ctx, const char *name, const void **data, size_t *len)
{
    struct secs *s = ctx;
    unsigned i;

    if (s->drop && strcmp(s->drop, name) == 0)
        return 0;
    for (i = 0; i < s->n; i++) {
        if (strcmp(s->name[i], name) == 0) {
            *data = s->data[i];
            *len = s->len[i];
            return 1;
        }
    }
    return 0;
}

#endif
