/*
 * shim.c: the part of the C reference that does not depend on the variant: worlds (their allocation
 * tracker and data arena), operation names, the byte pattern and the digest (Specs/snapshot.md).
 */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS under -std=c11 */

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "CSKBuff.h"
#include "skbref_world.h"

/* Under ASan the arena's free space and freed objects are poisoned, as calloc'd blocks would be. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SKBREF_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SKBREF_ASAN 1
#endif
#ifdef SKBREF_ASAN
#include <sanitizer/asan_interface.h>
#define SKBREF_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SKBREF_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SKBREF_POISON(p, n) ((void)(p), (void)(n))
#define SKBREF_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Arena bytes a reset leaves mapped: more than nearly every sequence uses. */
#ifdef SKBREF_KERNEL_WORKER
/* The region of the kernel worker's other objects: 64 MiB, far more than a sequence of calls uses. */
#define SKBREF_OBJECTS_SIZE ((size_t)64 << 20)
#endif

#define SKBREF_ARENA_KEEP ((size_t)512 << 10)

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* Fresh zero pages for n bytes, n a multiple of the page size: exactly at p when fixed (mapping pages
 * again drops the old ones), else wherever the kernel likes, p being a hint. */
static void *skbref_map(void *p, size_t n, int fixed)
{
    void *m = mmap(p, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (fixed ? MAP_FIXED : 0),
                   -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

#if defined(__i386__)
/* The i386 worker (CReference/worker): the arena sits where the Swift model's i386 arena does, at
 * PAGE_OFFSET 0xC0000000 (a 32-bit process on a 64-bit kernel can map there), so that 32-bit pointer
 * arithmetic wraps at the same places on both sides. */
#define SKBREF_I386_PAGE_OFFSET 0xC0000000u
#define SKBREF_MAP_FIXED_NOREPLACE 0x100000
static unsigned char *skbref_map_arena(void)
{
    void *want = (void *)(uintptr_t)SKBREF_I386_PAGE_OFFSET;
    void *m = mmap(want, SKBREF_ARENA_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | SKBREF_MAP_FIXED_NOREPLACE, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    if (m != want) { /* a kernel before 4.17 took the flag as a hint */
        munmap(m, SKBREF_ARENA_SIZE);
        return NULL;
    }
    return m;
}
#else
/* Where the arena may start: high enough that the kernel's pointer arithmetic cannot wrap below
 * address 0, as it cannot in the Swift model whose arena starts at PAGE_OFFSET (Specs/snapshot.md):
 * data - len for any unsigned int len, and NULL plus the sum of the differences a never-set header
 * was rebased by (less than the arena's size), both stay below every head. */
#define SKBREF_ARENA_LOWEST ((uintptr_t)1 << 33)

/* The arena, at or above SKBREF_ARENA_LOWEST. mmap normally puts it near the top of the user
 * space, but under valgrind, for one, it lands low; so a few high places (inside what
 * AddressSanitizer leaves to the program on x86_64) are asked for first, as hints. */
static unsigned char *skbref_map_arena(void)
{
    static const uintptr_t hints[] = {0x600000000000u, 0x500000000000u, 0x400000000000u, 0x300000000000u,
                                      0x200000000000u, 0};
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        void *m = skbref_map((void *)hints[i], SKBREF_ARENA_SIZE, 0);
        if (!m)
            continue;
        if ((uintptr_t)m >= SKBREF_ARENA_LOWEST)
            return m;
        munmap(m, SKBREF_ARENA_SIZE);
    }
    return NULL;
}
#endif

/*
 * Arenas of destroyed worlds, kept mapped for the next world. A campaign makes new worlds for every
 * block of iterations (the target changes), and a freshly mapped arena costs a page fault for every
 * page its first sequences touch. What a pooled arena holds never matters: objects are zeroed as they
 * are used, and the reset before pooling handed back everything above SKBREF_ARENA_KEEP. Worlds are
 * made and destroyed on several threads; a spin lock guards the pool (held for a few instructions).
 */
#define SKBREF_ARENA_POOL 64
static unsigned char *skbref_arena_pool[SKBREF_ARENA_POOL];
static size_t skbref_arena_pooled;
static atomic_flag skbref_arena_lock = ATOMIC_FLAG_INIT;

static void skbref_arena_pool_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&skbref_arena_lock, memory_order_acquire))
        ;
}

static void skbref_arena_pool_unlock(void)
{
    atomic_flag_clear_explicit(&skbref_arena_lock, memory_order_release);
}

static unsigned char *skbref_take_arena(void)
{
    unsigned char *a = NULL;
    skbref_arena_pool_lock();
    if (skbref_arena_pooled)
        a = skbref_arena_pool[--skbref_arena_pooled];
    skbref_arena_pool_unlock();
    return a ? a : skbref_map_arena();
}

/* What a pooled arena keeps resident: its first pages, which nearly every sequence uses. The rest is
 * handed back, so that what the pool holds stays small however long a campaign runs. */
#define SKBREF_ARENA_WARM ((size_t)256 << 10)

static void skbref_give_arena(unsigned char *a)
{
    skbref_map(a + SKBREF_ARENA_WARM, SKBREF_ARENA_KEEP - SKBREF_ARENA_WARM, 1);
    skbref_arena_pool_lock();
    int kept = skbref_arena_pooled < SKBREF_ARENA_POOL;
    if (kept)
        skbref_arena_pool[skbref_arena_pooled++] = a;
    skbref_arena_pool_unlock();
    if (!kept)
        munmap(a, SKBREF_ARENA_SIZE);
}

struct skbref_world *skbref_world_create(uint32_t cache_bytes)
{
    /* SMP_CACHE_BYTES is a power of two; SKB_DATA_ALIGN's mask means nothing otherwise. */
    if (cache_bytes == 0 || (cache_bytes & (cache_bytes - 1)) != 0)
        return NULL;
    struct skbref_world *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->cache_bytes = cache_bytes;
    w->arena = skbref_take_arena();
    if (!w->arena) {
        free(w);
        return NULL;
    }
    return w;
}

void skbref_world_reset(struct skbref_world *w)
{
#ifndef SKBREF_KERNEL_WORKER
    for (size_t i = 0; i < w->nblocks; i++)
        if (!w->blocks[i].in_arena)
            free(w->blocks[i].p);
#endif
    w->nblocks = 0;
    w->objects_used = 0;
    w->epoch++;
    w->frag_epoch++;
    w->fail_countdown = 0;
    /* A new sequence: the arena starts over. Objects are zeroed as they are used, so what the pages
     * hold never matters; the used part above SKBREF_ARENA_KEEP is handed back to the kernel, so what
     * stays resident does not grow with the largest sequence seen. */
    if (w->arena_used > SKBREF_ARENA_KEEP) {
        size_t page = 4096;
        skbref_map(w->arena + SKBREF_ARENA_KEEP, (w->arena_used - SKBREF_ARENA_KEEP + page - 1) & ~(page - 1), 1);
    }
    w->arena_used = 0;
    SKBREF_POISON(w->arena, w->arena_high);
}

void skbref_world_set_mutant(struct skbref_world *w, int32_t mutant)
{
    w->mutant = mutant;
}

void skbref_world_cancel_injected_failure(struct skbref_world *w)
{
    w->fail_countdown = 0;
}

static const char *const skbref_mutant_names[] = {
    "put-ge",
    "push-le",
    "pull-ge",
    "trim-ge",
    "align-plus-one",
    "truesize-shinfo",
    "expand-ptr-mac-kept",
    "expand-csum-kept",
    "expand-truesize",
    "expand-hdr-len-kept",
    "clone-no-dataref",
    "release-ignores-nohdr",
    "header-release-one",
    "header-cloned-plus",
    "fclone-stays-busy",
    "clone-hdr-len-kept",
    "clone-keeps-nohdr",
    "realloc-delta-lt",
    "cow-ge",
    "pad-gt",
    "pad-failure-keeps",
    "copy-expand-csum-kept",
    "copy-expand-off-headers-kept",
    "copy-no-gso-segs",
    "copy-ip6-frag-id",
    "clone-no-mac-len",
    "from-cache-truesize",
    "dev-alloc-pad",
    "reserve-len",
    "expand-failure-uncloned",
    "set-tail-off-forgets-data",
    "put-returns-new-tail",
    "pull-tail-keeps-exact-frag",
    "expand-no-get-page",
    "trim-end-le",
    "pskb-copy-no-get-page",
};
_Static_assert(sizeof(skbref_mutant_names) / sizeof(skbref_mutant_names[0]) == SKBREF_MUTANT_COUNT - 1,
               "one name per mutant");

const char *skbref_mutant_name(uint32_t mutant)
{
    return mutant >= 1 && mutant < SKBREF_MUTANT_COUNT ? skbref_mutant_names[mutant - 1] : NULL;
}

void skbref_world_destroy(struct skbref_world *w)
{
    if (!w)
        return;
    skbref_world_reset(w);
    SKBREF_UNPOISON(w->arena, w->arena_high);
    skbref_give_arena(w->arena);
#ifdef SKBREF_KERNEL_WORKER
    if (w->objects)
        munmap(w->objects, SKBREF_OBJECTS_SIZE);
#endif
    free(w->scratch);
    free(w->blocks);
    free(w);
}

uint32_t skbref_world_live_allocations(const struct skbref_world *w)
{
    return (uint32_t)w->nblocks;
}

uintptr_t skbref_world_arena_base(const struct skbref_world *w)
{
    return (uintptr_t)w->arena;
}

/* Room for one more tracked block. */
static int skbref_world_reserve(struct skbref_world *w)
{
    if (w->nblocks < w->capacity)
        return 1;
    size_t capacity = w->capacity ? 2 * w->capacity : 64;
    struct skbref_block *blocks = realloc(w->blocks, capacity * sizeof(*blocks));
    if (!blocks)
        return 0;
    w->blocks = blocks;
    w->capacity = capacity;
    return 1;
}

static void *skbref_world_track(struct skbref_world *w, unsigned char *p, size_t size, int in_arena)
{
    w->blocks[w->nblocks].p = p;
    w->blocks[w->nblocks].size = size;
    w->blocks[w->nblocks].in_arena = in_arena;
    w->blocks[w->nblocks].is_page = 0;
    w->blocks[w->nblocks].version = ++w->writes;
    /* calloc'd blocks are zero already; arena objects are zeroed as they are touched. */
#ifdef SKBREF_KERNEL_WORKER
    /* The kernel's code reads and writes its objects without the world's touch, so they are real
     * from the start (Specs/kernel.md). */
    if (in_arena)
        memset(p, 0, size);
    w->blocks[w->nblocks].lo = size;
#else
    w->blocks[w->nblocks].lo = in_arena ? 0 : size;
#endif
    w->blocks[w->nblocks].hi = size;
    w->nblocks++;
    w->epoch++;
    return p;
}

static void *skbref_world_alloc_block(struct skbref_world *w, size_t size, int zeroed)
{
    if (!skbref_world_reserve(w))
        return NULL;
#ifdef SKBREF_KERNEL_WORKER
    /* The kernel worker places its other objects (sk_buff heads, pages, the caller's buffers) one
     * after another in a region of their own that starts over with each sequence, never reused
     * within it: a wild access of the tree's code then meets the same objects on every run of the
     * same sequence, whatever ran before (Specs/kernel.md). */
    if (!w->objects) {
        /* Right after the data arena when that is free (a hint), so the placement is the same in every run. */
        void *m = skbref_map(w->arena + SKBREF_ARENA_SIZE, SKBREF_OBJECTS_SIZE, 0);
        if (!m)
            return NULL;
        w->objects = m;
    }
    size_t need = (size + 15) & ~(size_t)15;
    if (need < 16)
        need = 16;
    if (need > SKBREF_OBJECTS_SIZE - w->objects_used)
        return NULL;
    unsigned char *o = w->objects + w->objects_used;
    w->objects_used += need;
    if (zeroed)
        memset(o, 0, size);
    return skbref_world_track(w, o, size, 0);
#endif
    /* At least one byte, so that every block has its own address. */
    unsigned char *p = zeroed ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
    return p ? skbref_world_track(w, p, size, 0) : NULL;
}

void *skbref_world_alloc(struct skbref_world *w, size_t size)
{
    return skbref_world_alloc_block(w, size, 1);
}

void *skbref_world_alloc_unzeroed(struct skbref_world *w, size_t size)
{
    return skbref_world_alloc_block(w, size, 0);
}

void *skbref_world_arena_alloc(struct skbref_world *w, size_t size)
{
    /* Placed at the previous object's start plus its size rounded up to 64 (Specs/snapshot.md). */
    if (size > SKBREF_ARENA_SIZE - w->arena_used || !skbref_world_reserve(w))
        return NULL;
    unsigned char *p = w->arena + w->arena_used;
    size_t next = (w->arena_used + size + 63) & ~(size_t)63;
    SKBREF_UNPOISON(p, size);
    SKBREF_POISON(p + size, next - w->arena_used - size);
    w->arena_used = next;
    if (next > w->arena_high)
        w->arena_high = next;
    return skbref_world_track(w, p, size, 1);
}

/* Newest first: recent blocks are the likely ones. */
size_t skbref_world_index(const struct skbref_world *w, uintptr_t start)
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
    if (w->blocks[i].in_arena)
        SKBREF_POISON(w->blocks[i].p, w->blocks[i].size); /* never reused within the sequence */
#ifndef SKBREF_KERNEL_WORKER /* its other objects are never reused within the sequence either */
    else
        free(w->blocks[i].p);
#endif
    w->blocks[i] = w->blocks[--w->nblocks];
    w->epoch++;
    return 0;
}

struct skbref_block *skbref_world_block(const struct skbref_world *w, uintptr_t start)
{
    size_t i = skbref_world_index(w, start);
    return i == w->nblocks ? NULL : &w->blocks[i];
}

void skbref_world_touch(struct skbref_block *b, size_t off, size_t n, int writes)
{
    size_t end = off + n;
    if (b->lo == b->hi || end <= b->lo || off >= b->hi)
        return;
    if (end - b->lo <= b->hi - off) {
        /* Grow the real prefix to end; an overwriting access needs only the gap before it zeroed. */
        size_t to = end < b->hi ? end : b->hi;
        size_t zero_to = writes ? (off > b->lo ? off : b->lo) : to;
        memset(b->p + b->lo, 0, zero_to - b->lo);
        b->lo = to;
    } else {
        /* Grow the real suffix down to off; an overwriting access needs only the gap after it zeroed. */
        size_t from = off > b->lo ? off : b->lo;
        size_t zero_from = writes ? (end < b->hi ? end : b->hi) : from;
        memset(b->p + zero_from, 0, b->hi - zero_from);
        b->hi = from;
    }
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

void skbref_fill_page(unsigned char *p, uint32_t id)
{
    /* 256-byte chunks of the ramp, chunk j starting at (id * 167 + j * 89) mod 256: a misplaced copy
     * shows, within a page and across pages. */
    for (uint32_t j = 0; j < SKBREF_PAGE_SIZE / 256; j++) {
        uint32_t phase = (id * 167u + j * 89u) & 255u;
        for (uint32_t k = 0; k < 256; k++)
            p[256 * j + k] = (unsigned char)(phase + k);
    }
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
    "skb_is_nonlinear",
    "skb_headlen",
    "skb_pagelen",
    "pskb_may_pull",
    "__pskb_pull_tail",
    "pskb_pull",
    "pskb_trim",
    "skb_linearize",
    "skb_copy_bits",
    "set_csum",
    "set_mac_len",
    "set_gso",
    "set_gso_type",
    "set_ip6_frag_id",
    "add_frag",
    "fail_next_alloc",
};
_Static_assert(sizeof(skbref_op_names) / sizeof(skbref_op_names[0]) == SKBREF_OP_COUNT,
               "one name per enum skbref_op");

const char *skbref_op_name(uint32_t op)
{
    return op < SKBREF_OP_COUNT ? skbref_op_names[op] : NULL;
}

/* Byte k of a write with pattern p is (p * 157 + k) mod 256. */
/* 0, 1, ..., 255, 0, 1, ...: byte k of a pattern is ramp[(start + k) & 255 ...], copied in chunks. */
static const unsigned char *skbref_ramp(void)
{
    static unsigned char ramp[512];
    static int ready;
    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        unsigned char r[512];
        for (int i = 0; i < 512; i++)
            r[i] = (unsigned char)i;
        memcpy(ramp, r, sizeof(r));
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    return ramp;
}

/* Byte k is (pattern * 157 + k) mod 256: a ramp, copied 256 bytes at a time. */
void skbref_fill_pattern(unsigned char *to, size_t n, uint32_t pattern)
{
    const unsigned char *ramp = skbref_ramp();
    unsigned start = (unsigned char)(pattern * 157u);
    for (size_t k = 0; k < n; k += 256) {
        size_t chunk = n - k < 256 ? n - k : 256;
        memcpy(to + k, ramp + ((start + k) & 255), chunk);
    }
}

#define SKBREF_K 0x9E3779B97F4A7C15ull

static inline uint64_t skbref_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * SKBREF_K;
    return h ^ (h >> 32);
}

static inline uint64_t skbref_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* Four lanes so the multiplies overlap (Specs/snapshot.md): word i, little endian, the last one
 * zero-padded, goes to lane i % 4; the lanes are folded and mixed once more. */
uint64_t skbref_digest(const unsigned char *p, size_t n)
{
    uint64_t h[4];
    for (int j = 0; j < 4; j++)
        h[j] = 0xcbf29ce484222325ull ^ (uint64_t)n ^ ((uint64_t)j * SKBREF_K);
    size_t words = n / 8, i = 0;
    for (; i + 4 <= words; i += 4)
        for (int j = 0; j < 4; j++) {
            uint64_t w;
            memcpy(&w, p + 8 * (i + j), 8);
            h[j] = skbref_mix(h[j], w);
        }
    for (; i < words; i++) {
        uint64_t w;
        memcpy(&w, p + 8 * i, 8);
        h[i % 4] = skbref_mix(h[i % 4], w);
    }
    if (n % 8) {
        unsigned char last[8] = {0};
        memcpy(last, p + 8 * words, n % 8);
        uint64_t w;
        memcpy(&w, last, 8);
        h[words % 4] = skbref_mix(h[words % 4], w);
    }
    uint64_t r = h[0] ^ skbref_rotl(h[1], 17) ^ skbref_rotl(h[2], 31) ^ skbref_rotl(h[3], 47);
    r = (r ^ (r >> 29)) * SKBREF_K;
    return r ^ (r >> 32);
}

void skbref_world_written(struct skbref_world *w, uintptr_t start)
{
    for (size_t i = w->nblocks; i-- > 0;)
        if ((uintptr_t)w->blocks[i].p == start) {
            w->blocks[i].version = ++w->writes;
            return;
        }
}

uint64_t skbref_world_digest(struct skbref_world *w, const void *skb, struct skbref_block *block, int64_t data,
                             int64_t tail)
{
    struct skbref_digest_entry *e = &w->digests[((uintptr_t)skb >> 6) % SKBREF_DIGEST_CACHE];
#ifdef SKBREF_KERNEL_WORKER
    e->skb = NULL; /* no cache: the kernel's code does not stamp its writes (Specs/kernel.md) */
#endif
    if (e->skb != skb || e->head != (uintptr_t)block->p || e->version != block->version || e->data != data ||
        e->tail != tail) {
        e->skb = skb;
        e->head = (uintptr_t)block->p;
        e->version = block->version;
        e->data = data;
        e->tail = tail;
        skbref_world_touch(block, (size_t)data, (size_t)(tail - data), 0);
        e->digest = skbref_digest(block->p + data, (size_t)(tail - data));
    }
    return e->digest;
}

/* The kernel worker's variants (CReference/kernel) carry the same names. */
const struct skbref_variant *skbref_variant_for(int uses_offset, int profile)
{
    static const struct skbref_variant *const variants[3][2] = {
        {&ptr_minimal_skbref_variant, &off_minimal_skbref_variant},
        {&ptr_typical_skbref_variant, &off_typical_skbref_variant},
        {&ptr_distro_skbref_variant, &off_distro_skbref_variant},
    };
    if (profile < 0 || profile > 2)
        return NULL;
    return variants[profile][uses_offset ? 1 : 0];
}

void skbref_keep_freed_memory(void)
{
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
}
