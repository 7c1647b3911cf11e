/*
 * tcache.c - the code cache: one RWX mapping filled by a bump allocator,
 * a hash of blocks keyed by (guest EIP, mode), the inline lookup table for
 * indirect branches (in cpu_rt) and the host-pc -> guest-EIP search the
 * signal handler uses. When any part is full everything is flushed at once
 * (blocks are never freed one by one, so chained jumps never dangle).
 * A write to a guest page with code drops only the blocks translated from
 * it (tc_invalidate_page): each is taken out of the hash and its entry is
 * overwritten with a jump to the lookup of its EIP, so chained jumps that
 * still lead there find the new translation; its bytes stay in the cache.
 *
 * Indirect branches: where the host lets us reserve 32 GiB of address space
 * (MAP_NORESERVE; only touched pages cost memory), ibt[] holds the host
 * entry of every guest EIP that was an indirect target, so the lookup is a
 * single `jmp [r12 + r14*8]`; an empty entry is 0, the jump to 0 faults
 * and cpu_signal.c turns that into XE_LOOKUP. Otherwise a 64 Ki-entry hash
 * in cpu_rt is probed inline (xlat.c, x_ind_jump).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mman.h>

#include "cpu_int.h"

static uint32_t tc_page_hash(uint32_t pg)
{
    return (pg * 0x9E3779B1u) >> (32 - TC_HASH_BITS);
}

static uint32_t tc_hash(uint32_t eip, uint32_t mode)
{
    return ((eip ^ (eip >> 16) ^ (mode << 7)) * 0x9E3779B1u) >> (32 - TC_HASH_BITS);
}

/* The miss stub at the start of the cache: the lookup sequence jumps here
 * with the target EIP in r14d. */
static void tc_emit_miss_stub(struct cpu *cpu)
{
    uint8_t *p = cpu->cc;
    static const uint8_t stub[] = {
        0x45, 0x89, 0x77, RT_EXIT_EIP,                  /* mov [r15+exit_eip], r14d */
        0x41, 0xC7, 0x47, RT_REASON, XE_LOOKUP, 0, 0, 0, /* mov dword [r15+reason], XE_LOOKUP */
        0x41, 0xFF, 0x67, RT_EXIT_FN,                   /* jmp [r15+exit_fn] */
    };
    memcpy(p, stub, sizeof stub);
    cpu->miss_stub = p;
    cpu->cc_used = 64;
}

static void tc_ibtc_reset(struct cpu *cpu)
{
    for (uint32_t i = 0; i < RT_IBTC_N; i++) {
        cpu->rt->ibtc_key[i] = 0;
        cpu->rt->ibtc_host[i] = (uint64_t)(uintptr_t)cpu->miss_stub;
    }
}

int tc_init(struct cpu *cpu, size_t cc_bytes, int use_ibt)
{
    cpu->cc_bytes = cc_bytes;
    cpu->cc = mmap(NULL, cc_bytes, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (cpu->cc == MAP_FAILED) {
        cpu->cc = NULL;
        return -1;
    }
    void *ibt = use_ibt ? mmap(NULL, TC_IBT_BYTES, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                        : MAP_FAILED;
    if (ibt != MAP_FAILED) {
        cpu->ibt = ibt;
        cpu->rt->ibt = (uint64_t)(uintptr_t)ibt;
    }
    cpu->ctx[0] = (struct tc_ctx){.used = 1, .ibt = cpu->ibt};
    cpu->cur_ctx = 0;
    cpu->cur_mode = 1;
    cpu->blocks = calloc(TC_MAX_BLOCKS, sizeof *cpu->blocks);
    cpu->bhash = malloc(sizeof(int32_t) << TC_HASH_BITS);
    cpu->phash = malloc(sizeof(int32_t) << TC_HASH_BITS);
    cpu->maps = malloc(sizeof(struct xlat_map) * (size_t)TC_MAX_MAPS);
    if (!cpu->blocks || !cpu->bhash || !cpu->phash || !cpu->maps)
        return -1;
    tc_flush(cpu);
    cpu->stats.cache_flushes = 0;
    return 0;
}

void tc_fini(struct cpu *cpu)
{
    if (cpu->cc)
        munmap(cpu->cc, cpu->cc_bytes);
    for (unsigned k = 0; k < TC_NCTX; k++)
        if (cpu->ctx[k].ibt)
            munmap(cpu->ctx[k].ibt, TC_IBT_BYTES);
    free(cpu->blocks);
    free(cpu->bhash);
    free(cpu->phash);
    free(cpu->maps);
}

void tc_flush(struct cpu *cpu)
{
    memset(cpu->bhash, 0xff, sizeof(int32_t) << TC_HASH_BITS);
    memset(cpu->phash, 0xff, sizeof(int32_t) << TC_HASH_BITS);
    cpu->wide_blocks = 0;
    view_sys_code_reset(cpu);
    cpu->nblocks = 0;
    cpu->nmaps = 0;
    tc_emit_miss_stub(cpu);
    tc_ibtc_reset(cpu);
    cpu->ctx[cpu->cur_ctx].ibt_used |= (uint8_t)cpu->ibt_used;
    for (unsigned k = 0; k < TC_NCTX; k++) {
        if (cpu->ctx[k].ibt && cpu->ctx[k].ibt_used)
            madvise(cpu->ctx[k].ibt, TC_IBT_BYTES, MADV_DONTNEED);
        cpu->ctx[k].ibt_used = 0;
    }
    cpu->ibt_used = 0;
    cpu->flush_gen++;
    cpu->stats.cache_flushes++;
}

struct xlat_block *tc_lookup(struct cpu *cpu, uint32_t eip, uint32_t mode)
{
    for (int32_t i = cpu->bhash[tc_hash(eip, mode)]; i >= 0; i = cpu->blocks[i].hnext) {
        struct xlat_block *b = &cpu->blocks[i];
        if (b->eip == eip && b->mode == mode)
            return b;
    }
    return NULL;
}

void tc_insert(struct cpu *cpu, struct xlat_block *b)
{
    uint32_t h = tc_hash(b->eip, b->mode);
    b->hnext = cpu->bhash[h];
    cpu->bhash[h] = (int32_t)(b - cpu->blocks);
}

void tc_page_link(struct cpu *cpu, struct xlat_block *b, const uint32_t *pages, unsigned n)
{
    int32_t idx = (int32_t)(b - cpu->blocks);
    b->npages = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned k = 0;
        while (k < b->npages && b->pages[k] != pages[i])
            k++;
        if (k < b->npages)
            continue;
        if (b->npages == TC_BLOCK_PAGES) {
            cpu->wide_blocks++; /* a write anywhere flushes everything */
            continue;
        }
        uint32_t h = tc_page_hash(pages[i]);
        b->pages[k] = pages[i];
        b->pnext[k] = cpu->phash[h];
        cpu->phash[h] = idx * TC_BLOCK_PAGES + (int32_t)k;
        b->npages++;
    }
}

/* Take b out of the hash; chained jumps and table entries that still lead
 * to it reach, instead of its code, a jump to the lookup of its EIP. */
static int tc_kill(struct cpu *cpu, struct xlat_block *b)
{
    /* the patch: jmp +5 over the poll; mov r14d, eip; then the lookup */
    if (b->host_len < 18)
        return -1;
    for (int32_t *pi = &cpu->bhash[tc_hash(b->eip, b->mode)]; *pi >= 0;
         pi = &cpu->blocks[*pi].hnext) {
        if (&cpu->blocks[*pi] == b) {
            *pi = b->hnext;
            break;
        }
    }
    b->dead = 1;
    uint8_t *h = b->host;
    h[0] = 0xEB; /* jmp rel8 to h + 7, where forward chains enter */
    h[1] = XLAT_POLL_BYTES - 2;
    h[7] = 0x41; /* mov r14d, imm32 */
    h[8] = 0xBE;
    memcpy(h + 9, &b->eip, 4);
    uint64_t *ibt = b->mode >= 1 && b->mode <= TC_NCTX ? cpu->ctx[b->mode - 1].ibt : NULL;
    if (cpu->ibt && ibt) {
        static const uint8_t j[] = {0x43, 0xFF, 0x24, 0xF4}; /* jmp [r12 + r14*8] */
        memcpy(h + 13, j, sizeof j);
        if (ibt[b->eip] == (uint64_t)(uintptr_t)b->host)
            ibt[b->eip] = 0; /* empty: the jump faults into XE_LOOKUP */
    } else {
        h[13] = 0xE9; /* jmp miss_stub */
        int32_t rel = (int32_t)(cpu->miss_stub - (h + 18));
        memcpy(h + 14, &rel, 4);
        uint32_t i = b->eip & (RT_IBTC_N - 1);
        if (cpu->rt->ibtc_host[i] == (uint64_t)(uintptr_t)b->host) {
            cpu->rt->ibtc_key[i] = 0;
            cpu->rt->ibtc_host[i] = (uint64_t)(uintptr_t)cpu->miss_stub;
        }
    }
    return 0;
}

void tc_invalidate_page(struct cpu *cpu, uint32_t pg)
{
    if (cpu->wide_blocks) {
        tc_flush(cpu);
        return;
    }
    int32_t *pn = &cpu->phash[tc_page_hash(pg)];
    while (*pn >= 0) {
        struct xlat_block *b = &cpu->blocks[*pn / TC_BLOCK_PAGES];
        unsigned k = (unsigned)(*pn % TC_BLOCK_PAGES);
        if (!b->dead && b->pages[k] == pg && tc_kill(cpu, b) != 0) {
            tc_flush(cpu);
            return;
        }
        if (b->dead)
            *pn = b->pnext[k]; /* unlink here; its other nodes go on their walks */
        else
            pn = &b->pnext[k];
    }
}

void tc_switch_ctx(struct cpu *cpu, unsigned m, uint32_t fs, uint32_t gs)
{
    cpu->ctx[cpu->cur_ctx].ibt_used |= (uint8_t)cpu->ibt_used;
    unsigned k;
    for (k = 0; k < TC_NCTX; k++) {
        const struct tc_ctx *c = &cpu->ctx[k];
        if (c->used && c->null_fsgs == m && c->fs == fs && c->gs == gs)
            goto found;
    }
    for (k = 0; k < TC_NCTX; k++) {
        if (cpu->ctx[k].used)
            continue;
        if (cpu->ctx[0].ibt) {
            void *ibt = mmap(NULL, TC_IBT_BYTES, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (ibt == MAP_FAILED)
                break;
            cpu->ctx[k].ibt = ibt;
        }
        break;
    }
    if (k == TC_NCTX || (cpu->ctx[0].ibt && !cpu->ctx[k].ibt)) {
        /* no room: start over; the victim's blocks went with the flush */
        tc_flush(cpu);
        k = cpu->ctx_victim++ % TC_NCTX;
    }
    cpu->ctx[k].used = 1;
    cpu->ctx[k].null_fsgs = (uint8_t)m;
    cpu->ctx[k].fs = fs;
    cpu->ctx[k].gs = gs;
found:
    cpu->cur_ctx = k;
    cpu->cur_mode = k + 1;
    cpu->ibt = cpu->ctx[k].ibt;
    cpu->ibt_used = cpu->ctx[k].ibt_used;
    if (cpu->ibt)
        cpu->rt->ibt = (uint64_t)(uintptr_t)cpu->ibt;
    else
        tc_ibtc_reset(cpu); /* one inline table for all contexts */
}

void tc_ibtc_set(struct cpu *cpu, uint32_t eip, const uint8_t *host)
{
    if (cpu->ibt) {
        cpu->ibt[eip] = (uint64_t)(uintptr_t)host;
        cpu->ibt_used = 1;
        return;
    }
    uint32_t i = eip & (RT_IBTC_N - 1);
    cpu->rt->ibtc_key[i] = 0u - eip;
    cpu->rt->ibtc_host[i] = (uint64_t)(uintptr_t)host;
}

struct xlat_block *tc_find_pc(struct cpu *cpu, const uint8_t *pc, uint32_t *eip,
                              uint8_t *fixup)
{
    uint32_t lo = 0, hi = cpu->nblocks;
    if (pc < cpu->cc || pc >= cpu->cc + cpu->cc_used)
        return NULL;
    /* blocks are allocated in address order: the last one starting <= pc */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cpu->blocks[mid].host <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    struct xlat_block *b = &cpu->blocks[lo - 1];
    if (pc >= b->host + b->host_len)
        return NULL;
    uint32_t off = (uint32_t)(pc - b->host);
    const struct xlat_map *m = &cpu->maps[b->map_first];
    uint32_t e = b->eip;
    uint8_t f = 0;
    for (uint32_t k = 0; k < b->map_n && m[k].host_off <= off; k++) {
        e = m[k].eip;
        f = m[k].fixup;
    }
    *eip = e;
    if (fixup)
        *fixup = f;
    return b;
}
