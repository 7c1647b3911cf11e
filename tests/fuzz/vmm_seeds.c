/*
 * vmm_seeds.c - writes the seed corpora of fuzz_decode and fuzz_virtqueue:
 *   vmm_seeds <decode-dir> <virtqueue-dir>
 * Decode seeds are one mode byte (bit 0: 32-bit code) and one instruction
 * of each family the decoder tells apart (prefixes, ModRM/SIB forms, 0F
 * maps, x87, far transfers). Virtqueue seeds are the 8 header bytes
 * virtqueue_fuzz_walk reads (vmm/dev/virtqueue.h) and a small guest RAM
 * with a split ring (virtio 1.2 2.7) holding direct, chained and indirect
 * descriptors, so the fuzzer starts from rings the walk accepts.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int put(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "vmm_seeds: %s: cannot write\n", path);
        return 1;
    }
    return 0;
}

/* hex text (spaces ignored) to bytes; returns the count */
static size_t unhex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    unsigned v;
    while (*s && n < max) {
        if (*s == ' ') {
            s++;
            continue;
        }
        if (sscanf(s, "%2x", &v) != 1)
            break;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

/* first byte: bit 0 is default32 */
static const char *const decode_seeds[] = {
    "01 90",                                  /* nop */
    "01 8b 44 24 08",                         /* mov eax,[esp+8]: SIB, disp8 */
    "01 c7 84 88 78 56 34 12 78 56 34 12",    /* mov [eax+ecx*4+d32],imm32 */
    "01 8b 05 00 10 00 00",                   /* mov eax,[disp32] */
    "00 8b 46 fe",                            /* 16-bit mov ax,[bp-2] */
    "00 66 67 8b 04 24",                      /* 16-bit code, 32-bit operand and address */
    "01 66 b8 34 12",                         /* mov ax,imm16 */
    "01 f3 a5",                               /* rep movsd */
    "01 f0 0f b1 0a",                         /* lock cmpxchg [edx],ecx */
    "01 26 2e 36 3e 64 65 66 67 f2 f3 90",    /* every prefix */
    "01 0f b6 c0",                            /* movzx */
    "01 0f 84 00 01 00 00",                   /* jz rel32 */
    "01 e8 00 00 00 00",                      /* call rel32 */
    "00 ea 00 00 00 f0",                      /* jmp far ptr16:16 */
    "01 9a 00 00 00 00 08 00",                /* call far ptr16:32 */
    "01 ff 24 85 00 20 00 00",                /* jmp [eax*4+d32] */
    "01 d9 ee",                               /* fldz */
    "01 dd 1c 24",                            /* fstp qword [esp] */
    "01 0f 0b",                               /* ud2 */
    "01 0f a2",                               /* cpuid */
    "01 0f 01 15 00 30 00 00",                /* lgdt */
    "01 0f 20 c0",                            /* mov eax,cr0 */
    "01 0f 10 c1",                            /* movups xmm0,xmm1 */
    "01 66 0f 6f 05 00 40 00 00",             /* movdqa xmm0,[d32] */
    "01 0f 38 00 c1",                         /* pshufb: 0F 38 map */
    "01 66 0f 3a 0f c1 08",                   /* palignr: 0F 3A map, imm8 */
    "01 c8 10 00 01",                         /* enter */
    "01 cd 80",                               /* int 0x80 */
    "01 8e d8",                               /* mov ds,ax */
    "01 69 c0 00 01 00 00",                   /* imul eax,eax,imm32 */
    "01 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", /* 16 bytes: too long */
    "01 8b",                                  /* cut short */
};

/* virtio 1.2 2.7.5: struct virtq_desc */
static void desc(uint8_t *ram, uint32_t at, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    memcpy(ram + at, &addr, 8);
    memcpy(ram + at + 8, &len, 4);
    memcpy(ram + at + 12, &flags, 2);
    memcpy(ram + at + 14, &next, 2);
}

static void le16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

enum { F_NEXT = 1, F_WRITE = 2, F_INDIRECT = 4 };

/*
 * Layout (RAM offsets): descriptors at 0x000 (4 of 16 bytes), avail ring
 * at 0x040, used ring at 0x080, buffers from 0x100, an indirect table at
 * 0x200. Header: num = 1 << (h[0] % 11), h[1] bit 0 event_idx, bit 1
 * indirect, desc = h[2] << 4 | h[3] << 12, avail = h[4] << 1 | h[5] << 9,
 * used = h[6] << 2 | h[7] << 10.
 */
static int virtqueue_seeds(const char *dir)
{
    uint8_t in[8 + 0x300];
    uint8_t *h = in, *ram = in + 8;
    int rc = 0;
    for (int v = 0; v < 4; v++) {
        memset(in, 0, sizeof in);
        h[0] = 2;                  /* 4 entries */
        h[1] = (uint8_t)v;         /* event_idx, indirect */
        h[4] = 0x40 >> 1;
        h[6] = 0x80 >> 2;
        memset(ram + 0x100, 0x5a, 0x100);
        /* chain 0: readable header, writable status, chained */
        desc(ram, 0x00, 0x100, 16, F_NEXT, 1);
        desc(ram, 0x10, 0x110, 32, F_WRITE | F_NEXT, 2);
        desc(ram, 0x20, 0x130, 1, F_WRITE, 0);
        /* chain 1: one descriptor, or an indirect table of two */
        if (v & 2) {
            desc(ram, 0x30, 0x200, 32, F_INDIRECT, 0);
            desc(ram, 0x200, 0x140, 64, F_NEXT, 1);
            desc(ram, 0x210, 0x180, 64, F_WRITE, 0);
        } else {
            desc(ram, 0x30, 0x140, 128, 0, 0);
        }
        le16(ram + 0x42, 2);       /* avail.idx */
        le16(ram + 0x44, 0);       /* avail.ring[0] */
        le16(ram + 0x46, 3);       /* avail.ring[1] */
        le16(ram + 0x4c, 1);       /* used_event */
        char name[32];
        snprintf(name, sizeof name, "ring-%d", v);
        rc |= put(dir, name, in, sizeof in);
    }
    /* a ring whose chain loops on itself, and one that points past RAM */
    desc(ram, 0x00, 0x100, 16, F_NEXT, 0);
    rc |= put(dir, "loop", in, sizeof in);
    desc(ram, 0x00, 0xfffff000, 16, 0, 0);
    rc |= put(dir, "outside", in, sizeof in);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vmm_seeds <decode-dir> <virtqueue-dir>\n");
        return 2;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof decode_seeds / sizeof decode_seeds[0]; i++) {
        uint8_t b[32];
        char name[32];
        size_t n = unhex(decode_seeds[i], b, sizeof b);
        snprintf(name, sizeof name, "insn-%02zu", i);
        rc |= put(argv[1], name, b, n);
    }
    rc |= virtqueue_seeds(argv[2]);
    return rc;
}
