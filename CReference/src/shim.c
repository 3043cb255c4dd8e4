/*
 * shim.c: the part of the C reference that does not depend on the variant: worlds and their
 * allocation tracker, operation names, the byte pattern and the digest (Specs/snapshot.md).
 */
#include <stdlib.h>
#include <string.h>

#include "CSKBuff.h"
#include "skbref_world.h"

struct skbref_world *skbref_world_create(uint32_t cache_bytes)
{
    /* SMP_CACHE_BYTES is a power of two; SKB_DATA_ALIGN's mask means nothing otherwise. */
    if (cache_bytes == 0 || (cache_bytes & (cache_bytes - 1)) != 0)
        return NULL;
    struct skbref_world *w = calloc(1, sizeof(*w));
    if (w)
        w->cache_bytes = cache_bytes;
    return w;
}

void skbref_world_reset(struct skbref_world *w)
{
    for (size_t i = 0; i < w->nblocks; i++)
        free(w->blocks[i].p);
    w->nblocks = 0;
}

void skbref_world_destroy(struct skbref_world *w)
{
    if (!w)
        return;
    skbref_world_reset(w);
    free(w->blocks);
    free(w);
}

uint32_t skbref_world_live_allocations(const struct skbref_world *w)
{
    return (uint32_t)w->nblocks;
}

void *skbref_world_alloc(struct skbref_world *w, size_t size)
{
    if (w->nblocks == w->capacity) {
        size_t capacity = w->capacity ? 2 * w->capacity : 64;
        struct skbref_block *blocks = realloc(w->blocks, capacity * sizeof(*blocks));
        if (!blocks)
            return NULL;
        w->blocks = blocks;
        w->capacity = capacity;
    }
    unsigned char *p = calloc(1, size ? size : 1);
    if (!p)
        return NULL;
    w->blocks[w->nblocks].p = p;
    w->blocks[w->nblocks].size = size;
    w->nblocks++;
    return p;
}

/* Index of the block starting at start, or nblocks. Newest first: recent blocks are the likely ones. */
static size_t skbref_world_index(const struct skbref_world *w, uintptr_t start)
{
    for (size_t i = w->nblocks; i-- > 0;)
        if ((uintptr_t)w->blocks[i].p == start)
            return i;
    return w->nblocks;
}

int skbref_world_free(struct skbref_world *w, const void *p)
{
    size_t i = skbref_world_index(w, (uintptr_t)p);
    if (i == w->nblocks)
        return -1;
    free(w->blocks[i].p);
    w->blocks[i] = w->blocks[--w->nblocks];
    return 0;
}

const struct skbref_block *skbref_world_block(const struct skbref_world *w, uintptr_t start)
{
    size_t i = skbref_world_index(w, start);
    return i == w->nblocks ? NULL : &w->blocks[i];
}

int skbref_world_owns(const struct skbref_world *w, uintptr_t p, size_t n)
{
    for (size_t i = w->nblocks; i-- > 0;) {
        uintptr_t lo = (uintptr_t)w->blocks[i].p;
        size_t size = w->blocks[i].size;
        if (p >= lo && p - lo <= size && n <= size - (p - lo))
            return 1;
    }
    return 0;
}

void skbref_world_fail(struct skbref_world *w, int32_t kind, int64_t value)
{
    w->fail_kind = kind;
    w->fail_value = value;
    longjmp(w->bug_jump, 1);
}

static const char *const skbref_op_names[] = {
    "alloc_skb",
    "alloc_skb_fclone",
    "dev_alloc_skb",
    "alloc_skb_from_cache",
    "skb_reserve",
    "skb_put",
    "__skb_put",
    "skb_push",
    "__skb_push",
    "skb_pull",
    "__skb_pull",
    "skb_trim",
    "__skb_trim",
    "skb_headroom",
    "skb_tailroom",
    "skb_clone",
    "skb_copy",
    "pskb_copy",
    "pskb_expand_head",
    "skb_realloc_headroom",
    "skb_copy_expand",
    "skb_cow",
    "skb_cow_head",
    "skb_pad",
    "skb_padto",
    "skb_unshare",
    "skb_share_check",
    "skb_get",
    "kfree_skb",
    "skb_header_release",
    "skb_cloned",
    "skb_header_cloned",
    "skb_shared",
    "skb_reset_mac_header",
    "skb_reset_network_header",
    "skb_reset_transport_header",
    "skb_set_mac_header",
    "skb_set_network_header",
    "skb_set_transport_header",
    "skb_mac_header_was_set",
    "skb_reset_tail_pointer",
    "skb_set_tail_pointer",
    "skb_tail_pointer",
    "skb_end_pointer",
};
_Static_assert(sizeof(skbref_op_names) / sizeof(skbref_op_names[0]) == SKBREF_OP_COUNT,
               "one name per enum skbref_op");

const char *skbref_op_name(uint32_t op)
{
    return op < SKBREF_OP_COUNT ? skbref_op_names[op] : NULL;
}

/* Byte k of a write with pattern p is (p * 157 + k) mod 256. */
void skbref_fill_pattern(unsigned char *to, size_t n, uint32_t pattern)
{
    for (size_t k = 0; k < n; k++)
        to[k] = (unsigned char)(pattern * 157u + (uint32_t)k);
}

/* h = basis ^ n; per 8-byte little-endian word (the last zero-padded): h = (h ^ w) * K; h ^= h >> 32. */
uint64_t skbref_digest(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
    for (size_t i = 0; i < n; i += 8) {
        unsigned char word[8] = {0};
        size_t chunk = n - i < 8 ? n - i : 8;
        memcpy(word, p + i, chunk);
        uint64_t w = 0;
        for (int b = 7; b >= 0; b--)
            w = (w << 8) | word[b];
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 32;
    }
    return h;
}
