/*
 * skbuff_impl.h: the C reference of the Linux 2.6.24 sk_buff helpers (../shared/docs/skbuff-2.6.24.md,
 * "the spec"), written from the spec's facts, plus the harness a variant exports.
 *
 * Included once per variant translation unit, after skbref_variant_begin.h: struct sk_buff,
 * sk_buff_data_t, NET_SKBUFF_DATA_USES_OFFSET and the CONFIG_ options are that variant's. Every
 * kernel helper is a static function named after its kernel twin. OFF/PTR differences are written
 * with #ifdef NET_SKBUFF_DATA_USES_OFFSET where spec section 5 says the kernel's text differs; the
 * arithmetic on sk_buff_data_t itself (unsigned int or pointer) goes through SKB_DATA_T_ADD/SUB.
 *
 * Two rules the kernel does not have, so that ASan/UBSan stay quiet on the kernel's quirks:
 *  - pointer arithmetic on head/data/tail/end/headers goes through uintptr_t (quirk 1 makes NULL + delta
 *    on purpose), and signed int arithmetic the kernel lets wrap is done in unsigned;
 *  - every byte access is checked where the kernel makes it (Specs/snapshot.md, "Bytes"): outside its
 *    buffer's [head, head + end) or its allocation, the call ends with SKBREF_OVERFLOW before the access.
 */
#ifdef SKBUFF_IMPL_INCLUDED
#error "skbuff_impl.h is included once per variant translation unit"
#endif
#define SKBUFF_IMPL_INCLUDED 1

#include <stdalign.h>
#include <string.h>
#include <stdlib.h>

#include "skbref_world.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the bit-field table below assumes a little-endian ABI (bit-fields allocated from bit 0)"
#endif

/* ------------------------------------------------------------------------------------------------
 * Kernel services: the world, BUG, allocators, atomics.
 * ---------------------------------------------------------------------------------------------- */

/* The world of the call running on this thread, set by apply (worlds run on several threads at once).
 * The i386 worker is one thread without a C library to set up thread-local storage: a plain static. */
#ifdef SKBREF_SINGLE_THREAD
static struct skbref_world *skbref_current;
#else
static _Thread_local struct skbref_world *skbref_current;
#endif

typedef unsigned int gfp_t;
#define __GFP_DMA 0x01u
#define GFP_ATOMIC 0x20u

#define EFAULT 14
#define ENOMEM 12

/* include/linux/cache.h: L1_CACHE_BYTES is an int constant; here the target's, from the world. */
#define SMP_CACHE_BYTES ((int)skbref_current->cache_bytes)
/* include/linux/skbuff.h */
#define NET_SKB_PAD 16
#define SKB_DATAREF_SHIFT 16
#define SKB_DATAREF_MASK ((1 << SKB_DATAREF_SHIFT) - 1)
enum {
    SKB_FCLONE_UNAVAILABLE,
    SKB_FCLONE_ORIG,
    SKB_FCLONE_CLONE,
};
/* 1 << min(MAX_ORDER + PAGE_SHIFT - 1, 25) with MAX_ORDER 11 and 4 KiB pages (spec section 8). */
#define KMALLOC_MAX_SIZE (1ul << 22)

/* BUG()/BUG_ON(): the kernel dies; the model ends the call with the check that fired (spec section 8). */
#define BUG(which) skbref_world_fail(skbref_current, SKBREF_BUG, (which))
/* The fault `name` (enum skbref_mutant) is switched on for this world (Specs/mutants.txt). */
#define MUTANT(name) (skbref_current->mutant == SKBREF_MUTANT_##name)
#define BUG_ON(condition, which)                                                                     \
    do {                                                                                             \
        if (condition)                                                                               \
            BUG(which);                                                                              \
    } while (0)

/* The kernel would have touched memory outside an object: end the call before the access. */
static _Noreturn void skbref_overflow(void)
{
    skbref_world_fail(skbref_current, SKBREF_OVERFLOW, 0);
}

/* Signed int arithmetic that the kernel lets wrap (two's complement, as gcc builds it), without UB. */
static int skb_wrap_int(unsigned long v)
{
    return (int)v;
}
static int skb_iadd(int a, int b)
{
    return skb_wrap_int((unsigned long)(unsigned int)a + (unsigned int)b);
}
static int skb_isub(int a, int b)
{
    return skb_wrap_int((unsigned long)(unsigned int)a - (unsigned int)b);
}

/* Pointer arithmetic through uintptr_t: the delta keeps its C type's extension (int: sign, unsigned: zero). */
#define SKB_PTR_ADD(p, delta) ((unsigned char *)((uintptr_t)(p) + (uintptr_t)(delta)))
#define SKB_PTR_SUB(p, delta) ((unsigned char *)((uintptr_t)(p) - (uintptr_t)(delta)))
#define SKB_PTR_DIFF(a, b) ((intptr_t)((uintptr_t)(a) - (uintptr_t)(b)))

/* Arithmetic on sk_buff_data_t, written `x += d` / `a - b` in the kernel (spec sections 0 and 5.6). */
#ifdef NET_SKBUFF_DATA_USES_OFFSET
/* OFF: unsigned int arithmetic, wrapping at 2^32 (quirk 3). */
#define SKB_DATA_T_ADD(x, d) ((sk_buff_data_t)((x) + (d)))
#define SKB_DATA_T_SUB(a, b) ((unsigned int)((a) - (b)))
#else
/* PTR: pointer arithmetic, which the kernel may take outside the buffer (quirk 1). */
#define SKB_DATA_T_ADD(x, d) SKB_PTR_ADD(x, d)
#define SKB_DATA_T_SUB(a, b) SKB_PTR_DIFF(a, b)
#endif
/* Comparing two sk_buff_data_t: unsigned int or address order, both unsigned. */
#define SKB_DATA_T_GT(a, b) ((uintptr_t)(a) > (uintptr_t)(b))

/* SKB_DATA_ALIGN(X) in X's own type: unsigned int wraps at 2^32, int wraps like gcc's int. */
static unsigned int skb_data_align_uint(unsigned int x)
{
    return (x + (SMP_CACHE_BYTES - (MUTANT(align_plus_one) ? 0 : 1))) & ~(SMP_CACHE_BYTES - 1);
}
static int skb_data_align_int(int x)
{
    unsigned int mask = (unsigned int)(SMP_CACHE_BYTES - 1);
    return skb_wrap_int(((unsigned int)x + mask + (MUTANT(align_plus_one) ? 1u : 0u)) & ~mask);
}
#define SKB_DATA_ALIGN(X) _Generic((X), int: skb_data_align_int, unsigned int: skb_data_align_uint)(X)

/* ALIGN(x, a) on an int (include/linux/kernel.h): int arithmetic, wrapping. */
static int skb_align_int(int x, int a)
{
    unsigned int mask = (unsigned int)a - 1u;
    return skb_wrap_int(((unsigned int)x + mask) & ~mask);
}
#define ALIGN(x, a) _Generic((x), int: skb_align_int)((x), (a))

/* include/asm-x86/atomic_64.h, single-threaded: the counters wrap like the hardware's. */
static int atomic_read(const atomic_t *v)
{
    return v->counter;
}
static void atomic_set(atomic_t *v, int i)
{
    v->counter = i;
}
static void atomic_add(int i, atomic_t *v)
{
    v->counter = skb_iadd(v->counter, i);
}
static void atomic_inc(atomic_t *v)
{
    atomic_add(1, v);
}
static int atomic_sub_return(int i, atomic_t *v)
{
    v->counter = skb_isub(v->counter, i);
    return v->counter;
}
static int atomic_dec_and_test(atomic_t *v)
{
    return atomic_sub_return(1, v) == 0;
}

/*
 * A slab cache: objects of one size. The model's caches are descriptions; objects are tracked blocks.
 * Data caches (alloc_skb_from_cache's) take their objects from the world's data arena, like kmalloc;
 * the sk_buff caches do not (Specs/snapshot.md: only data addresses are shared with the Swift model).
 */
struct kmem_cache {
    const char *name;
    size_t size;
    int data_arena;
};
/* net/core/skbuff.c: the two sk_buff caches (an array, so the name is a pointer as in the kernel). */
static const struct kmem_cache skbuff_head_cache[1] = {{"skbuff_head_cache", sizeof(struct sk_buff), 0}};
static const struct kmem_cache skbuff_fclone_cache[1] = {
    {"skbuff_fclone_cache", 2 * sizeof(struct sk_buff) + sizeof(atomic_t), 0}};

/* Allocation-failure injection (fail_next_alloc): this allocation is the one that fails. Counted
 * before anything else an allocation checks, as the Swift model does. */
static int skbref_allocation_fails(void)
{
    struct skbref_world *w = skbref_current;
    if (!w->fail_countdown)
        return 0;
    return --w->fail_countdown == 0;
}

/* kmem_cache_alloc: a zeroed object of the cache, or NULL. */
static void *kmem_cache_alloc(const struct kmem_cache *cachep, gfp_t flags)
{
    (void)flags;
    if (skbref_allocation_fails())
        return NULL;
    if (cachep->data_arena)
        return skbref_world_arena_alloc(skbref_current, cachep->size);
    return skbref_world_alloc(skbref_current, cachep->size);
}

/* kmem_cache_free: the object must be a live object of this cache (else the harness's bad_free). */
static void kmem_cache_free(const struct kmem_cache *cachep, void *objp)
{
    const struct skbref_block *b = skbref_world_block(skbref_current, (uintptr_t)objp);
    BUG_ON(!b || b->size != cachep->size, SKBREF_BUG_BAD_FREE);
    skbref_world_free(skbref_current, objp);
}

/*
 * kmalloc: memory from the data arena that reads as zero (skbref_world_touch); NULL above KMALLOC_MAX_SIZE (spec section 8; size
 * classes not modelled) or once the arena is used up (Specs/snapshot.md).
 */
static void *kmalloc(size_t size, gfp_t flags)
{
    (void)flags;
    if (skbref_allocation_fails())
        return NULL;
    if (size > KMALLOC_MAX_SIZE)
        return NULL;
    return skbref_world_arena_alloc(skbref_current, size);
}

/* kfree: NULL is a no-op; also takes kmem_cache objects, as alloc_skb_from_cache's buffers (spec 1). */
static void kfree(const void *objp)
{
    if (!objp)
        return;
    BUG_ON(skbref_world_free(skbref_current, objp) != 0, SKBREF_BUG_BAD_FREE);
}

/* ------------------------------------------------------------------------------------------------
 * Accessors (spec section 0 and 5.1).
 * ---------------------------------------------------------------------------------------------- */

#ifdef NET_SKBUFF_DATA_USES_OFFSET
/** skb_end_pointer - OFF: head + end. */
static unsigned char *skb_end_pointer(const struct sk_buff *skb)
{
    return SKB_PTR_ADD(skb->head, skb->end);
}
/** skb_tail_pointer - OFF: head + tail. */
static unsigned char *skb_tail_pointer(const struct sk_buff *skb)
{
    return SKB_PTR_ADD(skb->head, skb->tail);
}
/** skb_reset_tail_pointer - OFF: tail = data - head, truncated to unsigned int. */
static void skb_reset_tail_pointer(struct sk_buff *skb)
{
    skb->tail = (sk_buff_data_t)SKB_PTR_DIFF(skb->data, skb->head);
}
/** skb_set_tail_pointer - OFF: reset, then tail += offset (unchecked). */
static void skb_set_tail_pointer(struct sk_buff *skb, const int offset)
{
    skb_reset_tail_pointer(skb);
    if (MUTANT(set_tail_off_forgets_data))
        skb->tail = 0;
    skb->tail = SKB_DATA_T_ADD(skb->tail, offset);
}
/* skb_X_header / skb_reset_X_header / skb_set_X_header - OFF: offsets from head, set ones unchecked. */
#define SKB_HEADER_ACCESSORS(X)                                                                      \
    static unsigned char *skb_##X##_header(const struct sk_buff *skb)                                \
    {                                                                                                \
        return SKB_PTR_ADD(skb->head, skb->X##_header);                                              \
    }                                                                                                \
    static void skb_reset_##X##_header(struct sk_buff *skb)                                          \
    {                                                                                                \
        skb->X##_header = (sk_buff_data_t)SKB_PTR_DIFF(skb->data, skb->head);                        \
    }                                                                                                \
    static void skb_set_##X##_header(struct sk_buff *skb, const int offset)                          \
    {                                                                                                \
        skb_reset_##X##_header(skb);                                                                 \
        skb->X##_header = SKB_DATA_T_ADD(skb->X##_header, offset);                                   \
    }
/** skb_mac_header_was_set - OFF: mac_header != ~0U, so 1 on a fresh skb (quirk 2). */
static int skb_mac_header_was_set(const struct sk_buff *skb)
{
    return skb->mac_header != ~0U;
}
#else
/** skb_end_pointer - PTR: the end field itself. */
static unsigned char *skb_end_pointer(const struct sk_buff *skb)
{
    return skb->end;
}
/** skb_tail_pointer - PTR: the tail field itself. */
static unsigned char *skb_tail_pointer(const struct sk_buff *skb)
{
    return skb->tail;
}
/** skb_reset_tail_pointer - PTR: tail = data. */
static void skb_reset_tail_pointer(struct sk_buff *skb)
{
    skb->tail = skb->data;
}
/** skb_set_tail_pointer - PTR: tail = data + offset (unchecked). */
static void skb_set_tail_pointer(struct sk_buff *skb, const int offset)
{
    skb->tail = SKB_PTR_ADD(skb->data, offset);
}
/* skb_X_header / skb_reset_X_header / skb_set_X_header - PTR: absolute pointers, set ones unchecked. */
#define SKB_HEADER_ACCESSORS(X)                                                                      \
    static unsigned char *skb_##X##_header(const struct sk_buff *skb)                                \
    {                                                                                                \
        return skb->X##_header;                                                                      \
    }                                                                                                \
    static void skb_reset_##X##_header(struct sk_buff *skb)                                          \
    {                                                                                                \
        skb->X##_header = skb->data;                                                                 \
    }                                                                                                \
    static void skb_set_##X##_header(struct sk_buff *skb, const int offset)                          \
    {                                                                                                \
        skb->X##_header = SKB_PTR_ADD(skb->data, offset);                                            \
    }
/** skb_mac_header_was_set - PTR: mac_header != NULL, so 0 on a fresh skb (quirk 2). */
static int skb_mac_header_was_set(const struct sk_buff *skb)
{
    return skb->mac_header != NULL;
}
#endif

SKB_HEADER_ACCESSORS(mac)
SKB_HEADER_ACCESSORS(network)
SKB_HEADER_ACCESSORS(transport)

/** skb_is_nonlinear - data_len != 0. */
static unsigned int skb_is_nonlinear(const struct sk_buff *skb)
{
    return skb->data_len;
}

/** skb_headlen - len - data_len, unsigned. */
static unsigned int skb_headlen(const struct sk_buff *skb)
{
    return skb->len - skb->data_len;
}

/** skb_headroom - data - head as unsigned int (negative headroom wraps). */
static unsigned int skb_headroom(const struct sk_buff *skb)
{
    return (unsigned int)SKB_PTR_DIFF(skb->data, skb->head);
}

/** skb_tailroom - 0 if nonlinear, else end - tail as int (spec 5.6: u32 or pointer difference). */
static int skb_tailroom(const struct sk_buff *skb)
{
    return skb_is_nonlinear(skb) ? 0 : (int)SKB_DATA_T_SUB(skb->end, skb->tail);
}

#include "skbref_access.h"

/** skb_shinfo - the skb_shared_info at skb_end_pointer(); accessing it outside the allocation is overflow. */
static struct skb_shared_info *skb_shinfo(const struct sk_buff *skb)
{
    unsigned char *end = skb_end_pointer(skb);
    struct skb_window w = {(uintptr_t)skb->head, (uintptr_t)end,
                           (uintptr_t)end + sizeof(struct skb_shared_info)};
    skb_access(w, end, sizeof(struct skb_shared_info), 0);
    return (struct skb_shared_info *)end;
}

/* ------------------------------------------------------------------------------------------------
 * Pages and frags (Specs/paged.md).
 * ---------------------------------------------------------------------------------------------- */

#define PAGE_SIZE SKBREF_PAGE_SIZE
#define EINVAL 22
#define EMSGSIZE 90

/* A page the helpers hand to get_page/put_page or read: it must be a live page of this world, else
 * the kernel would touch freed memory (overflow). */
static struct page *skbref_page(struct page *page)
{
    const struct skbref_block *b = skbref_world_block(skbref_current, (uintptr_t)page);
    if (!b || b->size != sizeof(struct page))
        skbref_overflow();
    return page;
}

/* alloc_page: a fresh page, count 1, holding the page pattern of `id`; NULL when the allocation is
 * injected to fail (it counts as an allocation, as kmalloc does). The harness names a page by the
 * call that allocated it (Specs/paged.md), so that OFF and PTR number their pages alike. */
static struct page *alloc_page(gfp_t flags, uint32_t id)
{
    struct page *page;
    (void)flags;
    if (skbref_allocation_fails())
        return NULL;
    page = skbref_world_alloc_unzeroed(skbref_current, sizeof(*page)); /* every field is set below */
    if (!page)
        return NULL;
    page->id = id;
    page->count = 1;
    skbref_fill_page(page->bytes, page->id);
    skbref_current->frag_epoch++;
    return page;
}

/* get_page: count++. */
static void get_page(struct page *page)
{
    skbref_page(page)->count++;
    skbref_current->frag_epoch++;
}

/* put_page: count--; the page is freed at 0. */
static void put_page(struct page *page)
{
    skbref_current->frag_epoch++;
    if (--skbref_page(page)->count == 0)
        skbref_world_free(skbref_current, page);
}

/* The window a frag's page can be read in: its PAGE_SIZE bytes (what kmap_skb_frag maps for the copy
 * loops), after checking the page is live. */
static struct skb_window skbref_frag_window(const skb_frag_t *frag)
{
    struct page *page = skbref_page(frag->page);
    struct skb_window w = {(uintptr_t)page, (uintptr_t)page->bytes, (uintptr_t)page->bytes + PAGE_SIZE};
    return w;
}

/** skb_fill_page_desc - frags[i] = {page, off, size}; nr_frags = i + 1. */
static void skb_fill_page_desc(struct sk_buff *skb, int i, struct page *page, int off, int size)
{
    skb_frag_t *frag = &skb_shinfo(skb)->frags[i];

    frag->page = page;
    frag->page_offset = (__u32)off;
    frag->size = (__u32)size;
    skb_shinfo(skb)->nr_frags = (unsigned short)(i + 1);
    skbref_current->frag_epoch++;
}

/** skb_pagelen - the frags' sizes summed in an int, from the last, plus skb_headlen. */
static int skb_pagelen(const struct sk_buff *skb)
{
    int i, len = 0;

    for (i = (int)skb_shinfo(skb)->nr_frags - 1; i >= 0; i--)
        len = (int)((unsigned int)len + skb_shinfo(skb)->frags[i].size);
    return (int)((unsigned int)len + skb_headlen(skb));
}

/*
 * A driver's receive path (Specs/paged.md): a fresh page, its [offset, offset + size) described in
 * frags[nr_frags], and len, data_len and truesize += size as e1000's does. The driver's own checks:
 * -EMSGSIZE when frags[] is full, -EINVAL when the range leaves the page; -ENOMEM when alloc_page fails.
 */
static int skbref_add_frag(struct sk_buff *skb, unsigned int offset, unsigned int size, uint32_t id)
{
    struct skb_shared_info *si = skb_shinfo(skb);
    struct page *page;

    if (si->nr_frags >= MAX_SKB_FRAGS)
        return -EMSGSIZE;
    if (offset > PAGE_SIZE || size > PAGE_SIZE - offset)
        return -EINVAL;
    page = alloc_page(GFP_ATOMIC, id);
    if (!page)
        return -ENOMEM;
    skb_fill_page_desc(skb, si->nr_frags, page, (int)offset, (int)size);
    skb->len += size;
    skb->data_len += size;
    skb->truesize += size;
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Allocation (spec section 1).
 * ---------------------------------------------------------------------------------------------- */

/* Shared by __alloc_skb and alloc_skb_from_cache: the fields after the memset up to tail, and the
 * shared info both set (ip6_frag_id is the caller's: only __alloc_skb sets it). */
static struct skb_shared_info *skb_init_fresh(struct sk_buff *skb, unsigned char *data, unsigned int size)
{
    struct skb_shared_info *shinfo;

    memset(skb, 0, offsetof(struct sk_buff, tail));
    skb->truesize = (unsigned int)(size + sizeof(struct sk_buff) +
                                   (MUTANT(truesize_shinfo) ? sizeof(struct skb_shared_info) : 0));
    atomic_set(&skb->users, 1);
    skb->head = data;
    skb->data = data;
    skb_reset_tail_pointer(skb);
    skb->end = SKB_DATA_T_ADD(skb->tail, size);
    shinfo = skb_shinfo(skb);
    atomic_set(&shinfo->dataref, 1);
    shinfo->nr_frags = 0;
    shinfo->gso_size = 0;
    shinfo->gso_segs = 0;
    shinfo->gso_type = 0;
    shinfo->frag_list = NULL;
    return shinfo;
}

/**
 * __alloc_skb - head from the head or fclone cache, kmalloc(SKB_DATA_ALIGN(size) + shinfo), fields zeroed
 * up to tail (so headers are 0/NULL), truesize = aligned size + sizeof(sk_buff); fclone marks the pair.
 */
static struct sk_buff *__alloc_skb(unsigned int size, gfp_t gfp_mask, int fclone, int node)
{
    const struct kmem_cache *cache = fclone ? skbuff_fclone_cache : skbuff_head_cache;
    struct skb_shared_info *shinfo;
    struct sk_buff *skb;
    unsigned char *data;

    (void)node; /* one NUMA node */
    skb = kmem_cache_alloc(cache, gfp_mask & ~__GFP_DMA);
    if (!skb)
        return NULL;
    size = SKB_DATA_ALIGN(size);
    data = kmalloc(size + sizeof(struct skb_shared_info), gfp_mask);
    if (!data) {
        kmem_cache_free(cache, skb);
        return NULL;
    }
    shinfo = skb_init_fresh(skb, data, size);
    shinfo->ip6_frag_id = 0;
    if (fclone) {
        struct sk_buff *child = skb + 1;
        atomic_t *fclone_ref = (atomic_t *)(child + 1);
        skb->fclone = SKB_FCLONE_ORIG;
        atomic_set(fclone_ref, 1);
        child->fclone = SKB_FCLONE_UNAVAILABLE;
    }
    return skb;
}

/** alloc_skb - __alloc_skb(size, gfp, 0, -1). */
static struct sk_buff *alloc_skb(unsigned int size, gfp_t priority)
{
    return __alloc_skb(size, priority, 0, -1);
}

/** alloc_skb_fclone - __alloc_skb(size, gfp, 1, -1): an ORIG with a spare clone slot. */
static struct sk_buff *alloc_skb_fclone(unsigned int size, gfp_t priority)
{
    return __alloc_skb(size, priority, 1, -1);
}

/** skb_reserve - data += len, tail += len; len is an unchecked int. */
static void skb_reserve(struct sk_buff *skb, int len)
{
    skb->data = SKB_PTR_ADD(skb->data, len);
    skb->tail = SKB_DATA_T_ADD(skb->tail, len);
    if (MUTANT(reserve_len))
        skb->len += (unsigned int)len;
}

/** __dev_alloc_skb - alloc_skb(length + NET_SKB_PAD) (unsigned, wraps), then skb_reserve(NET_SKB_PAD). */
static struct sk_buff *__dev_alloc_skb(unsigned int length, gfp_t gfp_mask)
{
    unsigned int pad = MUTANT(dev_alloc_pad) ? 32 : NET_SKB_PAD;
    struct sk_buff *skb = alloc_skb(length + pad, gfp_mask);
    if (skb)
        skb_reserve(skb, (int)pad);
    return skb;
}

/** dev_alloc_skb - __dev_alloc_skb(length, GFP_ATOMIC). */
static struct sk_buff *dev_alloc_skb(unsigned int length)
{
    return __dev_alloc_skb(length, GFP_ATOMIC);
}

/**
 * alloc_skb_from_cache - 2.6.18's helper on the 2.6.24 structure (spec 1 and 8): head from the head
 * cache, then the buffer, an object of cp; ip6_frag_id left alone. 2.6.18 did not check that the
 * object holds SKB_DATA_ALIGN(size) + shinfo; the model reports that, after both allocations, as
 * overflow and produces no skb.
 */
static struct sk_buff *alloc_skb_from_cache(const struct kmem_cache *cp, unsigned int size, gfp_t gfp_mask)
{
    struct skb_shared_info *shinfo;
    struct sk_buff *skb;
    unsigned char *data;

    skb = kmem_cache_alloc(skbuff_head_cache, gfp_mask & ~__GFP_DMA);
    if (!skb)
        return NULL;
    size = SKB_DATA_ALIGN(size);
    data = kmem_cache_alloc(cp, gfp_mask);
    if (!data) {
        kmem_cache_free(skbuff_head_cache, skb);
        return NULL;
    }
    /* The shared info at data + size would overrun the object: the kernel's overrun is the model's
     * overflow, with the head and the object left allocated as the kernel left them. */
    if ((uint64_t)size + sizeof(struct skb_shared_info) > cp->size)
        skbref_overflow();
    /* ip6_frag_id is left as it was: 2.6.18 did not initialise it (spec section 1). */
    shinfo = skb_init_fresh(skb, data, size);
    if (MUTANT(from_cache_truesize))
        skb->truesize = (unsigned int)(cp->size + sizeof(struct sk_buff));
    return skb;
}

/* ------------------------------------------------------------------------------------------------
 * Linear-area operations (spec section 2).
 * ---------------------------------------------------------------------------------------------- */

/** skb_over_panic - skb_put moved tail past end: the kernel printks and BUGs (the skb stays modified). */
static _Noreturn void skb_over_panic(struct sk_buff *skb, int sz)
{
    (void)skb;
    (void)sz;
    skbref_world_fail(skbref_current, SKBREF_PANIC_OVER, 0);
}

/** skb_under_panic - skb_push moved data below head: the kernel printks and BUGs (the skb stays modified). */
static _Noreturn void skb_under_panic(struct sk_buff *skb, int sz)
{
    (void)skb;
    (void)sz;
    skbref_world_fail(skbref_current, SKBREF_PANIC_UNDER, 0);
}

/* SKB_LINEAR_ASSERT: BUG_ON(skb_is_nonlinear(skb)). */
#define SKB_LINEAR_ASSERT(skb) BUG_ON(skb_is_nonlinear(skb), SKBREF_BUG_LINEAR_ASSERT)

/** __skb_put - tail += len, len += len, no check; returns the old tail. */
static unsigned char *__skb_put(struct sk_buff *skb, unsigned int len)
{
    unsigned char *tmp = skb_tail_pointer(skb);
    SKB_LINEAR_ASSERT(skb);
    skb->tail = SKB_DATA_T_ADD(skb->tail, len);
    skb->len += len;
    return tmp;
}

/** skb_put - as __skb_put, then over-panic if tail > end (u32 under OFF, so a wrap passes: quirk 3). */
static unsigned char *skb_put(struct sk_buff *skb, unsigned int len)
{
    unsigned char *tmp = skb_tail_pointer(skb);
    SKB_LINEAR_ASSERT(skb);
    skb->tail = SKB_DATA_T_ADD(skb->tail, len);
    skb->len += len;
    if (SKB_DATA_T_GT(skb->tail, skb->end) || (MUTANT(put_ge) && skb->tail == skb->end))
        skb_over_panic(skb, (int)len);
    return MUTANT(put_returns_new_tail) ? skb_tail_pointer(skb) : tmp;
}

/** __skb_push - data -= len, len += len, no check; returns data. */
static unsigned char *__skb_push(struct sk_buff *skb, unsigned int len)
{
    skb->data = SKB_PTR_SUB(skb->data, len);
    skb->len += len;
    return skb->data;
}

/** skb_push - as __skb_push, then under-panic if data < head (pointers in both modes). */
static unsigned char *skb_push(struct sk_buff *skb, unsigned int len)
{
    skb->data = SKB_PTR_SUB(skb->data, len);
    skb->len += len;
    if ((uintptr_t)skb->data < (uintptr_t)skb->head || (MUTANT(push_le) && skb->data == skb->head))
        skb_under_panic(skb, (int)len);
    return skb->data;
}

/** __skb_pull - len -= len, BUG if len < data_len afterwards (unsigned: over-pulling wraps, quirk 7). */
static unsigned char *__skb_pull(struct sk_buff *skb, unsigned int len)
{
    skb->len -= len;
    BUG_ON(skb->len < skb->data_len, SKBREF_BUG_PULL_DATA_LEN);
    skb->data = SKB_PTR_ADD(skb->data, len);
    return skb->data;
}

/** skb_pull - NULL if len > skb->len, else __skb_pull. */
static unsigned char *skb_pull(struct sk_buff *skb, unsigned int len)
{
    return len > skb->len || (MUTANT(pull_ge) && len == skb->len) ? NULL : __skb_pull(skb, len);
}

/** __skb_trim - WARN and do nothing if nonlinear; else len = len and tail = data + len. */
static void __skb_trim(struct sk_buff *skb, unsigned int len)
{
    if (skb->data_len)
        return; /* WARN_ON(1) */
    skb->len = len;
    skb_set_tail_pointer(skb, (int)len);
}

/** skb_trim - __skb_trim only when skb->len > len. */
static void skb_trim(struct sk_buff *skb, unsigned int len)
{
    if (skb->len > len || (MUTANT(trim_ge) && skb->len == len))
        __skb_trim(skb, len);
}

/* ------------------------------------------------------------------------------------------------
 * Sharing and reference counts (spec section 3).
 * ---------------------------------------------------------------------------------------------- */

/** skb_get - users++; returns skb. */
static struct sk_buff *skb_get(struct sk_buff *skb)
{
    atomic_inc(&skb->users);
    return skb;
}

/** skb_shared - users != 1. */
static int skb_shared(const struct sk_buff *skb)
{
    return atomic_read(&skb->users) != 1;
}

/** skb_cloned - cloned && (dataref & 0xFFFF) != 1. */
static int skb_cloned(const struct sk_buff *skb)
{
    return skb->cloned && (atomic_read(&skb_shinfo(skb)->dataref) & SKB_DATAREF_MASK) != 1;
}

/** skb_header_cloned - cloned && (dataref & 0xFFFF) - (dataref >> 16) != 1 (quirk 10). */
static int skb_header_cloned(const struct sk_buff *skb)
{
    int dataref;
    if (!skb->cloned)
        return 0;
    dataref = atomic_read(&skb_shinfo(skb)->dataref);
    dataref = MUTANT(header_cloned_plus) ? skb_wrap_int((unsigned int)(dataref & SKB_DATAREF_MASK) + (unsigned int)(dataref >> SKB_DATAREF_SHIFT))
                                         : skb_isub(dataref & SKB_DATAREF_MASK, dataref >> SKB_DATAREF_SHIFT);
    return dataref != 1;
}

/** skb_header_release - BUG if nohdr; nohdr = 1; dataref += 1 << 16. */
static void skb_header_release(struct sk_buff *skb)
{
    BUG_ON(skb->nohdr, SKBREF_BUG_HEADER_RELEASE);
    skb->nohdr = 1;
    atomic_add(MUTANT(header_release_one) ? 1 : 1 << SKB_DATAREF_SHIFT, &skb_shinfo(skb)->dataref);
}

/**
 * skb_release_data - if !cloned or the dataref drop (1, or 1 + 1<<16 with nohdr) reaches 0: put_page
 * every frag, then free the buffer; an uncloned skb never decrements dataref. No frag_list here.
 */
static void skb_release_data(struct sk_buff *skb)
{
    if (!skb->cloned ||
        !atomic_sub_return(skb->nohdr && !MUTANT(release_ignores_nohdr) ? (1 << SKB_DATAREF_SHIFT) + 1 : 1,
                           &skb_shinfo(skb)->dataref)) {
        if (skb_shinfo(skb)->nr_frags) {
            int i;
            for (i = 0; i < skb_shinfo(skb)->nr_frags; i++)
                put_page(skb_shinfo(skb)->frags[i].page);
        }
        kfree(skb->head);
    }
}

/**
 * kfree_skbmem - frees the struct: UNAVAILABLE to the head cache; ORIG drops the pair's count;
 * CLONE marks its slot UNAVAILABLE (reusable) and drops the count; the pair goes at 0.
 */
static void kfree_skbmem(struct sk_buff *skb)
{
    struct sk_buff *other;
    atomic_t *fclone_ref;

    switch (skb->fclone) {
    case SKB_FCLONE_UNAVAILABLE:
        kmem_cache_free(skbuff_head_cache, skb);
        break;
    case SKB_FCLONE_ORIG:
        fclone_ref = (atomic_t *)(skb + 2);
        if (atomic_dec_and_test(fclone_ref))
            kmem_cache_free(skbuff_fclone_cache, skb);
        break;
    case SKB_FCLONE_CLONE:
        fclone_ref = (atomic_t *)(skb + 1);
        other = skb - 1;
        if (!MUTANT(fclone_stays_busy))
            skb->fclone = SKB_FCLONE_UNAVAILABLE;
        if (atomic_dec_and_test(fclone_ref))
            kmem_cache_free(skbuff_fclone_cache, other);
        break;
    }
}

/**
 * __kfree_skb - skb_release_all (dst, secpath, destructor and netfilter puts: always NULL here;
 * tc_index/tc_verd = 0; skb_release_data), then kfree_skbmem.
 */
static void __kfree_skb(struct sk_buff *skb)
{
#ifdef CONFIG_NET_SCHED
    skb->tc_index = 0;
#ifdef CONFIG_NET_CLS_ACT
    skb->tc_verd = 0;
#endif
#endif
    skb_release_data(skb);
    kfree_skbmem(skb);
}

/** kfree_skb - NULL is a no-op; users == 1 frees without a decrement, else only --users. */
static void kfree_skb(struct sk_buff *skb)
{
    if (!skb)
        return;
    if (atomic_read(&skb->users) != 1 && !atomic_dec_and_test(&skb->users))
        return;
    __kfree_skb(skb);
}

/**
 * __copy_skb_header - copies tstamp, dev, the 3 headers raw, dst, cb, the csum union, local_df,
 * pkt_type, ip_summed, priority, protocol, mark and the CONFIG-dependent fields. The dst/sp/nfct/
 * nf_bridge references are always NULL in this model, so taking a reference is a plain copy.
 * ipvs_property/nf_trace need IP_VS/XT_TARGET_TRACE, in no profile (quirk 8).
 */
static void __copy_skb_header(struct sk_buff *new, const struct sk_buff *old)
{
    new->tstamp = old->tstamp;
    new->dev = old->dev;
    new->transport_header = old->transport_header;
    new->network_header = old->network_header;
    new->mac_header = old->mac_header;
    new->dst = old->dst;
#ifdef CONFIG_INET
    new->sp = old->sp;
#endif
    memcpy(new->cb, old->cb, sizeof(old->cb));
    new->csum_start = old->csum_start;
    new->csum_offset = old->csum_offset;
    new->local_df = old->local_df;
    new->pkt_type = old->pkt_type;
    new->ip_summed = old->ip_summed;
#ifdef CONFIG_NETDEVICES_MULTIQUEUE
    new->queue_mapping = old->queue_mapping;
#endif
    new->priority = old->priority;
#if defined(CONFIG_IP_VS) || defined(CONFIG_IP_VS_MODULE)
    new->ipvs_property = old->ipvs_property;
#endif
    new->protocol = old->protocol;
    new->mark = old->mark;
#if defined(CONFIG_NF_CONNTRACK) || defined(CONFIG_NF_CONNTRACK_MODULE)
    new->nfct = old->nfct;
    new->nfctinfo = old->nfctinfo;
    new->nfct_reasm = old->nfct_reasm;
#endif
#ifdef CONFIG_BRIDGE_NETFILTER
    new->nf_bridge = old->nf_bridge;
#endif
#if defined(CONFIG_NETFILTER_XT_TARGET_TRACE) || defined(CONFIG_NETFILTER_XT_TARGET_TRACE_MODULE)
    new->nf_trace = old->nf_trace;
#endif
#ifdef CONFIG_NET_SCHED
    new->tc_index = old->tc_index;
#ifdef CONFIG_NET_CLS_ACT
    new->tc_verd = old->tc_verd;
#endif
#endif
#ifdef CONFIG_NETWORK_SECMARK
    new->secmark = old->secmark;
#endif
}

/**
 * __skb_clone - fills n from skb: header copy, len/data_len/mac_len, hdr_len (headroom if nohdr),
 * cloned = 1, nohdr = 0, iif, the buffer pointers, truesize, users = 1; then dataref++ and cloned = 1
 * on the original (the buffer and shinfo are shared).
 */
static struct sk_buff *__skb_clone(struct sk_buff *n, struct sk_buff *skb)
{
    n->next = n->prev = NULL;
    n->sk = NULL;
    __copy_skb_header(n, skb);
    n->len = skb->len;
    n->data_len = skb->data_len;
    if (!MUTANT(clone_no_mac_len))
        n->mac_len = skb->mac_len;
    n->hdr_len = (__u16)(skb->nohdr && !MUTANT(clone_hdr_len_kept) ? skb_headroom(skb) : skb->hdr_len);
    n->cloned = 1;
    n->nohdr = MUTANT(clone_keeps_nohdr) ? skb->nohdr : 0;
    n->destructor = NULL;
    n->iif = skb->iif;
    n->tail = skb->tail;
    n->end = skb->end;
    n->head = skb->head;
    n->data = skb->data;
    n->truesize = skb->truesize;
    atomic_set(&n->users, 1);
    if (!MUTANT(clone_no_dataref))
        atomic_inc(&skb_shinfo(skb)->dataref);
    skb->cloned = 1;
    return n;
}

/** skb_clone - uses the fclone companion (skb + 1) when free, else a head-cache struct; then __skb_clone. */
static struct sk_buff *skb_clone(struct sk_buff *skb, gfp_t gfp_mask)
{
    struct sk_buff *n;

    if (skb->fclone == SKB_FCLONE_ORIG && (skb + 1)->fclone == SKB_FCLONE_UNAVAILABLE) {
        atomic_t *fclone_ref;
        n = skb + 1;
        fclone_ref = (atomic_t *)(n + 1);
        n->fclone = SKB_FCLONE_CLONE;
        atomic_inc(fclone_ref);
    } else {
        n = kmem_cache_alloc(skbuff_head_cache, gfp_mask);
        if (!n)
            return NULL;
        n->fclone = SKB_FCLONE_UNAVAILABLE;
    }
    return __skb_clone(n, skb);
}

/** skb_share_check - if skb_shared: skb_clone, then kfree_skb(orig); returns the clone (maybe NULL). */
static struct sk_buff *skb_share_check(struct sk_buff *skb, gfp_t pri)
{
    if (skb_shared(skb)) {
        struct sk_buff *nskb = skb_clone(skb, pri);
        kfree_skb(skb);
        skb = nskb;
    }
    return skb;
}

/* ------------------------------------------------------------------------------------------------
 * Copies and reallocation (spec section 4).
 * ---------------------------------------------------------------------------------------------- */

/**
 * copy_skb_header - __copy_skb_header, then PTR only rebases the 3 headers by new->data - old->data
 * (spec 5.3; unset ones become wild, quirk 1), and copies gso_size/segs/type (not ip6_frag_id).
 */
static void copy_skb_header(struct sk_buff *new, const struct sk_buff *old)
{
#ifndef NET_SKBUFF_DATA_USES_OFFSET
    unsigned long offset = (unsigned long)SKB_PTR_DIFF(new->data, old->data);
#endif
    __copy_skb_header(new, old);
#ifndef NET_SKBUFF_DATA_USES_OFFSET
    new->transport_header = SKB_PTR_ADD(new->transport_header, offset);
    new->network_header = SKB_PTR_ADD(new->network_header, offset);
    new->mac_header = SKB_PTR_ADD(new->mac_header, offset);
#endif
    skb_shinfo(new)->gso_size = skb_shinfo(old)->gso_size;
    if (!MUTANT(copy_no_gso_segs))
        skb_shinfo(new)->gso_segs = skb_shinfo(old)->gso_segs;
    skb_shinfo(new)->gso_type = skb_shinfo(old)->gso_type;
    if (MUTANT(copy_ip6_frag_id))
        skb_shinfo(new)->ip6_frag_id = skb_shinfo(old)->ip6_frag_id;
}

/**
 * skb_copy_bits - -EFAULT if offset > len - len (int); copies from data + offset what lies in the
 * head (skb_headlen bytes), then from each frag's page in turn, until len bytes are copied (0), or
 * -EFAULT when the frags end first. No frag_list here. The harness adds to_w, the window the
 * destination must lie in.
 */
static int skb_copy_bits(const struct sk_buff *skb, int offset, void *to, int len, struct skb_window to_w)
{
    int i, copy;
    int start = (int)skb_headlen(skb);

    if (offset > skb_isub((int)skb->len, len))
        goto fault;
    if ((copy = skb_isub(start, offset)) > 0) {
        if (copy > len)
            copy = len;
        /* skb_copy_from_linear_data_offset: a negative copy is a huge size_t, hence overflow */
        skb_checked_memcpy(to_w, to, skb_linear_window(skb), SKB_PTR_ADD(skb->data, offset), (size_t)copy);
        if ((len = skb_isub(len, copy)) == 0)
            return 0;
        offset = skb_iadd(offset, copy);
        to = SKB_PTR_ADD(to, copy);
    }
    for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
        const skb_frag_t *frag = &skb_shinfo(skb)->frags[i];
        /* BUG_TRAP(start <= offset + len) only warns. */
        int end = (int)((unsigned int)start + frag->size);

        if ((copy = skb_isub(end, offset)) > 0) {
            struct skb_window from_w = skbref_frag_window(frag);
            if (copy > len)
                copy = len;
            /* vaddr + page_offset + offset - start */
            skb_checked_memcpy(to_w, to, from_w,
                               SKB_PTR_ADD(frag->page->bytes + frag->page_offset, (long)skb_isub(offset, start)),
                               (size_t)copy);
            if ((len = skb_isub(len, copy)) == 0)
                return 0;
            offset = skb_iadd(offset, copy);
            to = SKB_PTR_ADD(to, copy);
        }
        start = end;
    }
    if (!len)
        return 0;
fault:
    return -EFAULT;
}

/**
 * skb_copy - a linear copy: alloc_skb(end + data_len), reserve the old headroom, skb_put(len) (which can
 * panic), copy headroom and data with skb_copy_bits (BUG on failure), then copy_skb_header.
 */
static struct sk_buff *skb_copy(const struct sk_buff *skb, gfp_t gfp_mask)
{
    int headerlen = (int)SKB_PTR_DIFF(skb->data, skb->head);
    /* Allocate the copy buffer (spec 5.2: written differently, same value) */
#ifdef NET_SKBUFF_DATA_USES_OFFSET
    struct sk_buff *n = alloc_skb(skb->end + skb->data_len, gfp_mask);
#else
    struct sk_buff *n =
        alloc_skb((unsigned int)((unsigned long)SKB_PTR_DIFF(skb->end, skb->head) + skb->data_len), gfp_mask);
#endif
    if (!n)
        return NULL;
    skb_reserve(n, headerlen);
    skb_put(n, skb->len);
    if (skb_copy_bits(skb, skb_isub(0, headerlen), n->head, (int)((unsigned int)headerlen + skb->len),
                      skb_linear_window(n)))
        BUG(SKBREF_BUG_COPY_BITS);
    copy_skb_header(n, skb);
    return n;
}

/**
 * pskb_copy - alloc_skb(end), reserve the old headroom, skb_put(headlen), copy only headlen bytes from
 * data (the headroom bytes are not copied), truesize += data_len; the frag descriptors are copied and
 * each page gets a reference (get_page); then copy_skb_header.
 */
static struct sk_buff *pskb_copy(struct sk_buff *skb, gfp_t gfp_mask)
{
#ifdef NET_SKBUFF_DATA_USES_OFFSET
    struct sk_buff *n = alloc_skb(skb->end, gfp_mask);
#else
    struct sk_buff *n = alloc_skb((unsigned int)SKB_PTR_DIFF(skb->end, skb->head), gfp_mask);
#endif
    if (!n)
        return NULL;
    skb_reserve(n, (int)SKB_PTR_DIFF(skb->data, skb->head));
    skb_put(n, skb_headlen(skb));
    /* skb_copy_from_linear_data */
    skb_checked_memcpy(skb_linear_window(n), n->data, skb_linear_window(skb), skb->data, n->len);
    n->truesize += skb->data_len;
    n->data_len = skb->data_len;
    n->len = skb->len;
    if (skb_shinfo(skb)->nr_frags) {
        int i;
        for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
            skb_shinfo(n)->frags[i] = skb_shinfo(skb)->frags[i];
            if (!MUTANT(pskb_copy_no_get_page))
                get_page(skb_shinfo(n)->frags[i].page);
        }
        skb_shinfo(n)->nr_frags = (unsigned short)i;
    }
    /* No frag_list (skb_get on its members) in this model. */
    copy_skb_header(n, skb);
    return n;
}

/**
 * pskb_expand_head - BUG if shared; kmalloc(SKB_DATA_ALIGN(nhead + end + ntail) + shinfo) (-ENOMEM, skb
 * unchanged, on failure); copy [head, tail) to data + nhead and the shinfo to data + size; get_page
 * every frag (the new shinfo holds them too); release the
 * old data; rebase tail and the 3 headers (unset ones too, quirk 1) and csum_start += nhead (quirk 4);
 * cloned = hdr_len = nohdr = 0, dataref = 1; truesize unchanged (quirk 5).
 */
static int pskb_expand_head(struct sk_buff *skb, int nhead, int ntail, gfp_t gfp_mask)
{
    unsigned char *data;
    long off;
    /* spec 5.4: the old buffer size is end (OFF) or end - head (PTR); int, wrapping */
#ifdef NET_SKBUFF_DATA_USES_OFFSET
    int size = skb_wrap_int((unsigned long)(unsigned int)nhead + skb->end + (unsigned int)ntail);
#else
    int size = skb_wrap_int((unsigned long)(long)nhead + (unsigned long)SKB_PTR_DIFF(skb->end, skb->head) +
                            (unsigned long)(long)ntail);
#endif

    if (skb_shared(skb))
        BUG(SKBREF_BUG_EXPAND_SHARED);

    size = SKB_DATA_ALIGN(size);
    data = kmalloc((size_t)(long)size + sizeof(struct skb_shared_info), gfp_mask);
    if (!data) {
        if (MUTANT(expand_failure_uncloned))
            skb->cloned = 0;
        return -ENOMEM;
    }

    {
        /* Destinations: the new buffer's [data, data + size), and its shinfo inside the allocation. */
        unsigned char *new_end = SKB_PTR_ADD(data, size);
        struct skb_window buf = {(uintptr_t)data, (uintptr_t)data, (uintptr_t)new_end};
        struct skb_window sh = {(uintptr_t)data, (uintptr_t)new_end,
                                (uintptr_t)new_end + sizeof(struct skb_shared_info)};
        struct skb_window old_sh = {(uintptr_t)skb->head, (uintptr_t)skb_end_pointer(skb),
                                    (uintptr_t)skb_end_pointer(skb) + sizeof(struct skb_shared_info)};
        /* Bytes [head, tail): the packet and its headroom (spec 5.4: a length of tail or tail - head) */
#ifdef NET_SKBUFF_DATA_USES_OFFSET
        skb_checked_memcpy(buf, SKB_PTR_ADD(data, nhead), skb_linear_window(skb), skb->head, skb->tail);
#else
        skb_checked_memcpy(buf, SKB_PTR_ADD(data, nhead), skb_linear_window(skb), skb->head,
                           (size_t)SKB_PTR_DIFF(skb->tail, skb->head));
#endif
        skb_checked_memcpy(sh, new_end, old_sh, skb_end_pointer(skb), sizeof(struct skb_shared_info));
    }

    if (!MUTANT(expand_no_get_page)) {
        int i;
        for (i = 0; i < skb_shinfo(skb)->nr_frags; i++)
            get_page(skb_shinfo(skb)->frags[i].page);
    }
    /* No frag_list to clone in this model. */
    skb_release_data(skb);

    off = (long)SKB_PTR_DIFF(SKB_PTR_ADD(data, nhead), skb->head);
    skb->head = data;
    skb->data = SKB_PTR_ADD(skb->data, off);
    /* spec 5.4: end and the delta added to tail and the headers */
#ifdef NET_SKBUFF_DATA_USES_OFFSET
    skb->end = (sk_buff_data_t)size;
    off = nhead;
#else
    skb->end = SKB_PTR_ADD(skb->head, size);
#endif
    skb->tail = SKB_DATA_T_ADD(skb->tail, off);
    skb->transport_header = SKB_DATA_T_ADD(skb->transport_header, off);
    skb->network_header = SKB_DATA_T_ADD(skb->network_header, off);
#ifndef NET_SKBUFF_DATA_USES_OFFSET
    if (!MUTANT(expand_ptr_mac_kept))
#endif
        skb->mac_header = SKB_DATA_T_ADD(skb->mac_header, off);
    if (!MUTANT(expand_csum_kept))
        skb->csum_start = (__u16)(skb->csum_start + (unsigned int)nhead);
    if (MUTANT(expand_truesize))
        skb->truesize += (unsigned int)nhead + (unsigned int)ntail;
    skb->cloned = 0;
    if (!MUTANT(expand_hdr_len_kept))
        skb->hdr_len = 0;
    skb->nohdr = 0;
    atomic_set(&skb_shinfo(skb)->dataref, 1);
    return 0;
}

/**
 * skb_realloc_headroom - delta = headroom - skb_headroom (int): delta <= 0 gives pskb_copy (headroom
 * kept), else a clone expanded by SKB_DATA_ALIGN(delta) (freed, NULL, on failure).
 */
static struct sk_buff *skb_realloc_headroom(struct sk_buff *skb, unsigned int headroom)
{
    struct sk_buff *skb2;
    int delta = (int)(headroom - skb_headroom(skb));

    if (delta < 0 || (delta == 0 && !MUTANT(realloc_delta_lt))) {
        skb2 = pskb_copy(skb, GFP_ATOMIC);
    } else {
        skb2 = skb_clone(skb, GFP_ATOMIC);
        if (skb2 && pskb_expand_head(skb2, SKB_DATA_ALIGN(delta), 0, GFP_ATOMIC)) {
            kfree_skb(skb2);
            skb2 = NULL;
        }
    }
    return skb2;
}

/**
 * skb_copy_expand - alloc_skb(newheadroom + len + newtailroom) (unsigned), reserve newheadroom,
 * skb_put(len), copy min(old, new) headroom bytes plus the data (BUG on failure), copy_skb_header,
 * csum_start += new - old headroom (quirk 4) and, OFF only, the 3 headers too (spec 5.5).
 */
static struct sk_buff *skb_copy_expand(const struct sk_buff *skb, int newheadroom, int newtailroom,
                                       gfp_t gfp_mask)
{
    struct sk_buff *n =
        alloc_skb((unsigned int)newheadroom + skb->len + (unsigned int)newtailroom, gfp_mask);
    int oldheadroom = (int)skb_headroom(skb);
    int head_copy_len, head_copy_off;
    int off;

    if (!n)
        return NULL;
    skb_reserve(n, newheadroom);
    skb_put(n, skb->len);

    head_copy_len = oldheadroom;
    head_copy_off = 0;
    if (newheadroom <= head_copy_len)
        head_copy_len = newheadroom;
    else
        head_copy_off = skb_isub(newheadroom, head_copy_len);

    if (skb_copy_bits(skb, skb_isub(0, head_copy_len), SKB_PTR_ADD(n->head, head_copy_off),
                      (int)(skb->len + (unsigned int)head_copy_len), skb_linear_window(n)))
        BUG(SKBREF_BUG_COPY_BITS);

    copy_skb_header(n, skb);

    off = skb_isub(newheadroom, oldheadroom);
    if (!MUTANT(copy_expand_csum_kept))
        n->csum_start = (__u16)(n->csum_start + (unsigned int)off);
#ifdef NET_SKBUFF_DATA_USES_OFFSET
    if (!MUTANT(copy_expand_off_headers_kept)) {
        n->transport_header = SKB_DATA_T_ADD(n->transport_header, off);
        n->network_header = SKB_DATA_T_ADD(n->network_header, off);
        n->mac_header = SKB_DATA_T_ADD(n->mac_header, off);
    }
#endif
    return n;
}

/* ------------------------------------------------------------------------------------------------
 * Nonlinear helpers (Specs/paged.md).
 * ---------------------------------------------------------------------------------------------- */

/**
 * __pskb_pull_tail - make delta more bytes linear: eat = tail + delta - end (int); when eat > 0 or the
 * data is cloned, pskb_expand_head(0, eat > 0 ? eat + 128 : 0) (NULL if that fails); copy delta bytes
 * from offset headlen to tail (BUG if that fails); drop the frags delta covers (put_page; with an
 * unsigned comparison, so an empty frag always goes) and trim the one it ends in; tail += delta,
 * data_len -= delta. Returns the new tail. No frag_list here.
 */
static unsigned char *__pskb_pull_tail(struct sk_buff *skb, int delta)
{
    int i, k;
#ifdef NET_SKBUFF_DATA_USES_OFFSET
    int eat = (int)(skb->tail + (unsigned int)delta - skb->end);
#else
    int eat = skb_wrap_int((unsigned long)SKB_PTR_DIFF(SKB_PTR_ADD(skb->tail, (long)delta), skb->end));
#endif

    if (eat > 0 || skb_cloned(skb)) {
        if (pskb_expand_head(skb, 0, eat > 0 ? skb_iadd(eat, 128) : 0, GFP_ATOMIC))
            return NULL;
    }
    if (skb_copy_bits(skb, (int)skb_headlen(skb), skb_tail_pointer(skb), delta, skb_linear_window(skb)))
        BUG(SKBREF_BUG_COPY_BITS);

    eat = delta;
    k = 0;
    for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
        skb_frag_t *frags = skb_shinfo(skb)->frags;
        if (MUTANT(pull_tail_keeps_exact_frag) ? frags[i].size < (unsigned int)eat : frags[i].size <= (unsigned int)eat) {
            put_page(frags[i].page);
            eat = (int)((unsigned int)eat - frags[i].size);
        } else {
            frags[k] = frags[i];
            if (eat) {
                frags[k].page_offset += (unsigned int)eat;
                frags[k].size -= (unsigned int)eat;
                eat = 0;
            }
            k++;
        }
    }
    skb_shinfo(skb)->nr_frags = (unsigned short)k;
    skbref_current->frag_epoch++;

    skb->tail = SKB_DATA_T_ADD(skb->tail, delta);
    skb->data_len -= (unsigned int)delta;
    return skb_tail_pointer(skb);
}

/** pskb_may_pull - 1 if len <= headlen; 0 if len > skb->len; else whether __pskb_pull_tail succeeds. */
static int pskb_may_pull(struct sk_buff *skb, unsigned int len)
{
    if (len <= skb_headlen(skb))
        return 1;
    if (len > skb->len)
        return 0;
    return __pskb_pull_tail(skb, (int)(len - skb_headlen(skb))) != NULL;
}

/** __pskb_pull - pull the missing bytes into the head first (NULL if that fails), then len -= len, data += len. */
static unsigned char *__pskb_pull(struct sk_buff *skb, unsigned int len)
{
    if (len > skb_headlen(skb) && !__pskb_pull_tail(skb, (int)(len - skb_headlen(skb))))
        return NULL;
    skb->len -= len;
    skb->data = SKB_PTR_ADD(skb->data, len);
    return skb->data;
}

/** pskb_pull - NULL if len > skb->len, else __pskb_pull. */
static unsigned char *pskb_pull(struct sk_buff *skb, unsigned int len)
{
    return len > skb->len ? NULL : __pskb_pull(skb, len);
}

/** __skb_linearize - __pskb_pull_tail(data_len): 0, or -ENOMEM when it fails. */
static int __skb_linearize(struct sk_buff *skb)
{
    return __pskb_pull_tail(skb, (int)skb->data_len) ? 0 : -ENOMEM;
}

/** skb_linearize - 0 for a linear skb, else __skb_linearize. */
static int skb_linearize(struct sk_buff *skb)
{
    return skb_is_nonlinear(skb) ? __skb_linearize(skb) : 0;
}

/**
 * ___pskb_trim - expand first when cloned (its error returned); keep the frags that end before len
 * (unsigned comparisons), cut the one len falls in (or ends at) to end at len, put_page the rest and
 * set nr_frags; then len = len and data_len shrinks by what was cut, or, when len <= headlen,
 * data_len = 0 and tail = data + len.
 */
static int ___pskb_trim(struct sk_buff *skb, unsigned int len)
{
    int offset = (int)skb_headlen(skb);
    int nfrags = skb_shinfo(skb)->nr_frags;
    int i;
    int err;

    if (skb_cloned(skb) && (err = pskb_expand_head(skb, 0, 0, GFP_ATOMIC)))
        return err;

    i = 0;
    if ((unsigned int)offset >= len)
        goto drop_pages;

    for (; i < nfrags; i++) {
        int end = (int)((unsigned int)offset + skb_shinfo(skb)->frags[i].size);

        if (MUTANT(trim_end_le) ? (unsigned int)end <= len : (unsigned int)end < len) {
            offset = end;
            continue;
        }

        skb_shinfo(skb)->frags[i++].size = len - (unsigned int)offset;

drop_pages:
        skb_shinfo(skb)->nr_frags = (unsigned short)i;
        skbref_current->frag_epoch++;

        for (; i < nfrags; i++)
            put_page(skb_shinfo(skb)->frags[i].page);
        /* No frag_list to drop here. */
        goto done;
    }
    /* No frag_list to walk here. */

done:
    if (len > skb_headlen(skb)) {
        skb->data_len -= skb->len - len;
        skb->len = len;
    } else {
        skb->len = len;
        skb->data_len = 0;
        skb_set_tail_pointer(skb, (int)len);
    }
    return 0;
}

/** __pskb_trim - ___pskb_trim when nonlinear, else __skb_trim and 0. */
static int __pskb_trim(struct sk_buff *skb, unsigned int len)
{
    if (skb->data_len)
        return ___pskb_trim(skb, len);
    __skb_trim(skb, len);
    return 0;
}

/** pskb_trim - __pskb_trim when len < skb->len, else 0. */
static int pskb_trim(struct sk_buff *skb, unsigned int len)
{
    return len < skb->len ? __pskb_trim(skb, len) : 0;
}

/** skb_unshare - if skb_cloned: skb_copy, then kfree_skb(orig) even if the copy failed (quirk 9). */
static struct sk_buff *skb_unshare(struct sk_buff *skb, gfp_t pri)
{
    if (skb_cloned(skb)) {
        struct sk_buff *nskb = skb_copy(skb, pri);
        kfree_skb(skb);
        skb = nskb;
    }
    return skb;
}

/**
 * skb_pad - zero pad bytes past data + len; expands by ntail = data_len + pad - tailroom (int) when
 * cloned or short, then skb_linearize; frees the skb and returns the error if either fails.
 * len/tail unchanged (a linearised skb's tail moved to data + len).
 */
static int skb_pad(struct sk_buff *skb, int pad)
{
    int err;
    int ntail;

    if (!skb_cloned(skb) && (MUTANT(pad_gt) ? skb_tailroom(skb) > pad : skb_tailroom(skb) >= pad)) {
        skb_checked_memset(skb_linear_window(skb), SKB_PTR_ADD(skb->data, skb->len), 0, (size_t)pad);
        return 0;
    }

    ntail = skb_wrap_int((unsigned long)(skb->data_len + (unsigned int)pad) -
                         (unsigned long)SKB_DATA_T_SUB(skb->end, skb->tail));
    if (skb_cloned(skb) || ntail > 0) {
        err = pskb_expand_head(skb, 0, ntail, GFP_ATOMIC);
        if (err)
            goto free_skb;
    }
    /* "The use of this function with non-linear skb's really needs to be audited": a nonlinear skb
     * is pulled whole into the head here (the ntail above made room for data_len). */
    err = skb_linearize(skb);
    if (err)
        goto free_skb;
    skb_checked_memset(skb_linear_window(skb), SKB_PTR_ADD(skb->data, skb->len), 0, (size_t)pad);
    return 0;

free_skb:
    if (!MUTANT(pad_failure_keeps))
        kfree_skb(skb);
    return err;
}

/** skb_padto - 0 if skb->len >= len, else skb_pad(skb, len - skb->len). */
static int skb_padto(struct sk_buff *skb, unsigned int len)
{
    unsigned int size = skb->len;
    if (size >= len)
        return 0;
    return skb_pad(skb, (int)(len - size));
}

/**
 * __skb_cow - headroom at least NET_SKB_PAD; expands by ALIGN(headroom - skb_headroom, 16) when that
 * is positive or the data is cloned.
 */
static int __skb_cow(struct sk_buff *skb, unsigned int headroom, int cloned)
{
    int delta = 0;

    if (headroom < NET_SKB_PAD)
        headroom = NET_SKB_PAD;
    if (headroom > skb_headroom(skb) || (MUTANT(cow_ge) && headroom == skb_headroom(skb)))
        delta = (int)(headroom - skb_headroom(skb));
    if (delta || cloned)
        return pskb_expand_head(skb, ALIGN(delta, NET_SKB_PAD), 0, GFP_ATOMIC);
    return 0;
}

/** skb_cow - __skb_cow(skb, headroom, skb_cloned(skb)). */
static int skb_cow(struct sk_buff *skb, unsigned int headroom)
{
    return __skb_cow(skb, headroom, skb_cloned(skb));
}

/** skb_cow_head - __skb_cow(skb, headroom, skb_header_cloned(skb)). */
static int skb_cow_head(struct sk_buff *skb, unsigned int headroom)
{
    return __skb_cow(skb, headroom, skb_header_cloned(skb));
}

#include "skbref_harness.h"
