/*
 * A reference consumer of dfukit-ab-v1 headers, written from docs/header-dfukit-ab-v1.md alone: the struct and
 * constants come from the document's C block (the test extracts it into dfukit_ab_v1.h), everything else -
 * CRCs, SHA-256, the checks and the choice of slot - is implemented here the way the document says a
 * bootloader does it. It reads a flash dump instead of flash.
 *
 *   consumer DUMP BASE NAME=START+SIZE [NAME=START+SIZE...]     (numbers in hex or decimal)
 *
 * Prints one line per slot, "slot NAME valid VERSION runs RUNSLOT" or "slot NAME invalid REASON", then
 * "decision boot NAME", "decision copy FROM TO" or "decision none". Bytes outside the dump read as 0xFF.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "dfukit_ab_v1.h"

struct slot {
    const char *name;
    uint32_t start, size;
};

static uint8_t *dump;
static uint32_t dump_base, dump_len;

static uint8_t flash_byte(uint32_t addr)
{
    return (addr >= dump_base && addr - dump_base < dump_len) ? dump[addr - dump_base] : 0xFF;
}

static void flash_read(uint32_t addr, void *out, uint32_t n)
{
    uint8_t *o = out;
    for (uint32_t i = 0; i < n; i++) o[i] = flash_byte(addr + i);
}

static uint32_t flash_word(uint32_t addr)
{
    uint8_t b[4];
    flash_read(addr, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- CRC-32/ISO-HDLC, bit by bit ---------------------------------------------------------------- */
static uint32_t iso_update(uint32_t c, uint8_t byte)
{
    c ^= byte;
    for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : (c >> 1);
    return c;
}

static uint32_t crc_iso_flash(uint32_t addr, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) c = iso_update(c, flash_byte(addr + i));
    return ~c;
}

static uint32_t crc_iso_buf(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) c = iso_update(c, p[i]);
    return ~c;
}

/* ---- The STM32 CRC unit in its reset state, fed little-endian words; tail completed with 0xFF ----- */
static uint32_t crc_stm32_flash(uint32_t addr, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i += 4) {
        uint32_t w = 0;
        for (uint32_t k = 0; k < 4; k++) w |= (uint32_t)(i + k < n ? flash_byte(addr + i + k) : 0xFF) << (8 * k);
        c ^= w;
        for (int b = 0; b < 32; b++) c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : (c << 1);
    }
    return c;
}

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------------------------------ */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
    0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
    0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
    0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
    0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t blk[64])
{
    uint32_t w[64], a, b, c, d, e, f, g, hh;
    for (int t = 0; t < 16; t++) w[t] = (uint32_t)blk[4 * t] << 24 | (uint32_t)blk[4 * t + 1] << 16 | (uint32_t)blk[4 * t + 2] << 8 | blk[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = ROR(w[t - 15], 7) ^ ROR(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = ROR(w[t - 2], 17) ^ ROR(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[t] + w[t];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static void sha256_flash(uint32_t addr, uint32_t n, uint8_t out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t blk[64];
    uint64_t bits = (uint64_t)n * 8;
    uint32_t i = 0;
    for (; i + 64 <= n; i += 64) {
        flash_read(addr + i, blk, 64);
        sha256_block(h, blk);
    }
    uint32_t rest = n - i;
    memset(blk, 0, 64);
    flash_read(addr + i, blk, rest);
    blk[rest] = 0x80;
    if (rest >= 56) {
        sha256_block(h, blk);
        memset(blk, 0, 64);
    }
    for (int k = 0; k < 8; k++) blk[63 - k] = (uint8_t)(bits >> (8 * k));
    sha256_block(h, blk);
    for (int k = 0; k < 8; k++) out[4 * k] = h[k] >> 24, out[4 * k + 1] = h[k] >> 16, out[4 * k + 2] = h[k] >> 8, out[4 * k + 3] = h[k];
}

/* ---- The checks of "Validating a slot", in the document's order ---------------------------------- */
static const char *validate(const struct slot *s, const struct slot *slots, int nslots, dfukit_ab_v1_header_t *h, int *run)
{
    uint8_t raw[sizeof *h];
    flash_read(s->start, raw, sizeof raw);
    memcpy(h, raw, sizeof *h);
    if (h->magic == 0xFFFFFFFFu) return "HEADER_ERASED";
    if (h->magic != DFUKIT_AB_V1_MAGIC) return "HEADER_BAD_MAGIC";
    if (h->hdr_crc32 != crc_iso_buf(raw, offsetof(dfukit_ab_v1_header_t, hdr_crc32))) return "HEADER_CRC";

    const uint32_t allowed = DFUKIT_AB_V1_FLAGS_CRC_KIND_MASK | DFUKIT_AB_V1_FLAGS_SHA256_PRESENT_MASK | DFUKIT_AB_V1_FLAGS_CORE_ID_MASK;
    if (h->hdr_version != DFUKIT_AB_V1_HDR_VERSION || (h->flags & ~allowed) != 0) return "HEADER_FIELD_MISMATCH";
    uint32_t crc_kind = (h->flags & DFUKIT_AB_V1_FLAGS_CRC_KIND_MASK) >> DFUKIT_AB_V1_FLAGS_CRC_KIND_SHIFT;
    uint32_t core_id = (h->flags & DFUKIT_AB_V1_FLAGS_CORE_ID_MASK) >> DFUKIT_AB_V1_FLAGS_CORE_ID_SHIFT;
    if (crc_kind > DFUKIT_AB_V1_FLAGS_CRC_KIND_STM32 || core_id > DFUKIT_AB_V1_FLAGS_CORE_ID_CM4) return "HEADER_FIELD_VALUE";
    if (h->hdr_size < DFUKIT_AB_V1_FIELDS_SIZE || h->hdr_size % 0x80u != 0) return "HEADER_SIZE_FIELD";
    if (h->slot_size != s->size) return "HEADER_SLOT_SIZE";

    const struct slot *r = NULL;
    if ((uint64_t)s->start + h->hdr_size == h->load_addr) r = s;
    for (int i = 0; !r && i < nslots; i++)
        if ((uint64_t)slots[i].start + h->hdr_size == h->load_addr) r = &slots[i];
    if (!r) return "HEADER_LOAD_ADDRESS";
    *run = (int)(r - slots);
    uint64_t need = (uint64_t)h->hdr_size + h->payload_size;
    if (need > s->size || need > r->size) return "HEADER_SIZE_BEYOND_SLOT";

    uint32_t payload = s->start + h->hdr_size;
    if (crc_kind == DFUKIT_AB_V1_FLAGS_CRC_KIND_ISO_HDLC && h->payload_crc32 != crc_iso_flash(payload, h->payload_size)) return "HEADER_PAYLOAD_CRC";
    if (crc_kind == DFUKIT_AB_V1_FLAGS_CRC_KIND_STM32 && h->payload_crc32 != crc_stm32_flash(payload, h->payload_size)) return "HEADER_PAYLOAD_CRC";
    if (h->flags & DFUKIT_AB_V1_FLAGS_SHA256_PRESENT_MASK) {
        uint8_t d[32];
        sha256_flash(payload, h->payload_size, d);
        if (memcmp(d, h->sha256, 32) != 0) return "HEADER_PAYLOAD_HASH";
    }
    if (h->entry != flash_word(payload + 4)) return "HEADER_ENTRY_MISMATCH";
    uint32_t reset = h->entry & ~1u;
    if (reset < h->load_addr || (uint64_t)reset >= (uint64_t)h->load_addr + h->payload_size) return "HEADER_RESET_OUTSIDE_SLOT";
    return NULL;
}

static int newer(const dfukit_ab_v1_header_t *a, const dfukit_ab_v1_header_t *b)
{
    if (a->version_major != b->version_major) return a->version_major > b->version_major ? 1 : -1;
    if (a->version_minor != b->version_minor) return a->version_minor > b->version_minor ? 1 : -1;
    if (a->version_revision != b->version_revision) return a->version_revision > b->version_revision ? 1 : -1;
    if (a->version_build != b->version_build) return a->version_build > b->version_build ? 1 : -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DUMP BASE NAME=START+SIZE...\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    dump_len = (uint32_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    dump = malloc(dump_len ? dump_len : 1);
    if (fread(dump, 1, dump_len, f) != dump_len) return 2;
    fclose(f);
    dump_base = (uint32_t)strtoul(argv[2], NULL, 0);

    int n = argc - 3;
    struct slot *slots = calloc((size_t)n, sizeof *slots);
    for (int i = 0; i < n; i++) {
        char *eq = strchr(argv[3 + i], '='), *plus = eq ? strchr(eq, '+') : NULL;
        if (!eq || !plus) return 2;
        *eq = 0;
        slots[i].name = argv[3 + i];
        slots[i].start = (uint32_t)strtoul(eq + 1, NULL, 0);
        slots[i].size = (uint32_t)strtoul(plus + 1, NULL, 0);
    }

    dfukit_ab_v1_header_t *h = calloc((size_t)n, sizeof *h);
    int *run = calloc((size_t)n, sizeof *run);
    int best = -1;
    for (int i = 0; i < n; i++) {
        const char *why = validate(&slots[i], slots, n, &h[i], &run[i]);
        if (why) {
            printf("slot %s invalid %s\n", slots[i].name, why);
            continue;
        }
        printf("slot %s valid %u.%u.%u+%u runs %s\n", slots[i].name, h[i].version_major, h[i].version_minor, h[i].version_revision,
               h[i].version_build, slots[run[i]].name);
        if (best < 0) {
            best = i;
            continue;
        }
        int d = newer(&h[i], &h[best]);
        if (d > 0 || (d == 0 && run[i] == i && run[best] != best)) best = i;
    }
    if (best < 0) printf("decision none\n");
    else if (run[best] == best) printf("decision boot %s\n", slots[best].name);
    else printf("decision copy %s %s\n", slots[best].name, slots[run[best]].name);
    return 0;
}
