/*
 * skbk_env_impl.h: the definitions behind the stand-in kernel environment (skbk_env.h), included by
 * kernel_variant.c after the tree's code. Static, so each variant has its own; they follow the C
 * reference's services (CReference/src/skbuff_impl.h) rule for rule, so that a kernel variant and the
 * C reference place, count and check the same objects (Specs/kernel.md).
 */

static _Noreturn void skbref_overflow(void)
{
    skbref_world_fail(skbref_current, SKBREF_OVERFLOW, 0);
}

/* The harness's pointer arithmetic (as the C reference's: through uintptr_t). */
#define SKB_PTR_DIFF(a, b) ((intptr_t)((uintptr_t)(a) - (uintptr_t)(b)))

/* Catalogued faults are planted in the Swift model and the C reference only. */
#define MUTANT(name) 0

/* BUG(): the same numbers as the C reference's, from the function whose check fired (the tree's
 * functions carry the variant's prefix; the header's inline ones do not). */
#define SKBK_STR2(x) #x
#define SKBK_STR(x) SKBK_STR2(x)
static int skbk_named(const char *function, const char *name)
{
    static const char prefix[] = SKBK_STR(SKBREF_V_PREFIX);
    size_t i = 0;
    while (prefix[i] && function[i] == prefix[i])
        i++;
    if (!prefix[i])
        function += i;
    while (*function && *function == *name)
        function++, name++;
    return *function == *name;
}

static _Noreturn void skbk_bug(const char *function)
{
    static const struct {
        const char *function;
        int32_t bug;
    } checks[] = {
        {"skb_put", SKBREF_BUG_LINEAR_ASSERT},          {"__skb_put", SKBREF_BUG_LINEAR_ASSERT},
        {"__skb_pull", SKBREF_BUG_PULL_DATA_LEN},       {"skb_header_release", SKBREF_BUG_HEADER_RELEASE},
        {"pskb_expand_head", SKBREF_BUG_EXPAND_SHARED}, {"skb_copy", SKBREF_BUG_COPY_BITS},
        {"skb_copy_expand", SKBREF_BUG_COPY_BITS},      {"__pskb_pull_tail", SKBREF_BUG_COPY_BITS},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if (skbk_named(function, checks[i].function))
            skbref_world_fail(skbref_current, SKBREF_BUG, checks[i].bug);
    skbref_world_fail(skbref_current, SKBREF_BUG, SKBREF_BUG_OTHER);
}

/* skb_over_panic/skb_under_panic: the kernel prints and dies. */
void skb_over_panic(struct sk_buff *skb, int sz, void *here)
{
    (void)skb, (void)sz, (void)here;
    skbref_world_fail(skbref_current, SKBREF_PANIC_OVER, 0);
}

void skb_under_panic(struct sk_buff *skb, int sz, void *here)
{
    (void)skb, (void)sz, (void)here;
    skbref_world_fail(skbref_current, SKBREF_PANIC_UNDER, 0);
}

/*
 * The checked accesses of the tree's code (memcpy, memmove, memset). [p, p + n) must lie in one live
 * object of the world: in a data buffer (the data arena's objects), inside [head, head + end) (end is
 * where the buffer's shared info starts: its size less the shared info), or exactly its shared info
 * (pskb_expand_head copies it whole); in a page, inside its PAGE_SIZE bytes; in any other object
 * (sk_buff heads, the caller's buffer of skb_copy_bits), inside it. Else the call ends with
 * SKBREF_OVERFLOW, as the C reference's windows do (Specs/snapshot.md, "Bytes").
 */
static /* What the running call may touch besides objects of its own making (skbk_before_call). */
static struct {
    const unsigned char *target_head;   /* the data buffer of the call's target when it started */
    const unsigned char *arena_mark;    /* data buffers at or above this were allocated by the call */
    const struct page *mapped;          /* the page last mapped (page_address, kmap_atomic) */
} skbk_call;

static void skbk_check(const void *p, size_t n, int writes)
{
    struct skbref_world *w = skbref_current;
    uintptr_t a = (uintptr_t)p;
    if (n == 0)
        return;
    for (size_t i = w->nblocks; i-- > 0;) {
        struct skbref_block *b = &w->blocks[i];
        uintptr_t lo = (uintptr_t)b->p;
        if (a < lo || a - lo >= b->size + (b->size == 0))
            continue;
        size_t off = a - lo, lo_ok = 0, hi_ok = b->size;
        /* A data buffer read is the target's or one the call allocated; a write goes to one the call
         * allocated once it allocated one (the fresh buffer of an expand or a copy), else to the
         * target's. A page is the one mapped. Any other is reached only by a pointer that left its
         * own object (e.g. pskb_expand_head's data + nhead with nhead < 0). */
        int own = b->p >= skbk_call.arena_mark;
        int fresh = w->arena + w->arena_used > skbk_call.arena_mark;
        if (b->in_arena && (writes ? (fresh ? !own : b->p != skbk_call.target_head) : (!own && b->p != skbk_call.target_head)))
            skbref_overflow();
        if (b->is_page && b->p != (const unsigned char *)skbk_call.mapped)
            skbref_overflow();
        if (b->in_arena && b->size >= sizeof(struct skb_shared_info)) {
            size_t end = b->size - sizeof(struct skb_shared_info);
            if (off == end && n == sizeof(struct skb_shared_info))
                hi_ok = b->size;
            else
                hi_ok = end;
        } else if (b->is_page) {
            lo_ok = offsetof(struct page, bytes);
        }
        if (off < lo_ok || off > hi_ok || n > hi_ok - off)
            skbref_overflow();
        if (writes)
            b->version = ++w->writes;
        return;
    }
    skbref_overflow();
}

static inline void *skbk_shinfo(const void *head, void *end)
{
    const struct skbref_block *b = skbref_world_block(skbref_current, (uintptr_t)head);
    uintptr_t e = (uintptr_t)end, lo = b ? (uintptr_t)b->p : 0;
    if (!b || e < lo || e - lo > b->size || sizeof(struct skb_shared_info) > b->size - (e - lo))
        skbref_overflow();
    return end;
}

/* Allocation-failure injection (fail_next_alloc): this allocation is the one that fails. Counted
 * before anything else an allocation checks, as the C reference and the Swift model do. */
static int skbk_allocation_fails(void)
{
    struct skbref_world *w = skbref_current;
    if (!w->fail_countdown)
        return 0;
    return --w->fail_countdown == 0;
}

/* kmem_cache_create: skb_init's two caches, made once per variant and process (not world objects). */
static struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align, unsigned long flags,
                                     void (*ctor)(struct kmem_cache *, void *))
{
    (void)align, (void)flags, (void)ctor;
    struct kmem_cache *c = malloc(sizeof(*c));
    if (!c)
        skbref_world_fail(skbref_current, SKBREF_BUG, SKBREF_BUG_OTHER); /* SLAB_PANIC */
    c->name = name;
    c->size = size;
    return c;
}

/* kmem_cache_alloc: an object of the cache, a zeroed tracked block (the C reference's heads). */
static void *kmem_cache_alloc(struct kmem_cache *cachep, gfp_t flags)
{
    (void)flags;
    if (skbk_allocation_fails())
        return NULL;
    return skbref_world_alloc(skbref_current, cachep->size);
}

/* kmem_cache_free: the object must be a live object of this cache (else the harness's bad_free). */
static void kmem_cache_free(struct kmem_cache *cachep, void *objp)
{
    const struct skbref_block *b = skbref_world_block(skbref_current, (uintptr_t)objp);
    if (!b || b->size != cachep->size)
        skbref_world_fail(skbref_current, SKBREF_BUG, SKBREF_BUG_BAD_FREE);
    skbref_world_free(skbref_current, objp);
}

/* kmalloc: from the data arena, placed as the C reference's; NULL above KMALLOC_MAX_SIZE or once the
 * arena is used up. */
static void *kmalloc(size_t size, gfp_t flags)
{
    (void)flags;
    if (skbk_allocation_fails())
        return NULL;
    if (size > KMALLOC_MAX_SIZE)
        return NULL;
    return skbref_world_arena_alloc(skbref_current, size);
}

/* kfree: NULL is a no-op. */
static void kfree(const void *objp)
{
    if (!objp)
        return;
    if (skbref_world_free(skbref_current, objp) != 0)
        skbref_world_fail(skbref_current, SKBREF_BUG, SKBREF_BUG_BAD_FREE);
}

/* A page the code hands to get_page/put_page or maps: a live page of this world, else the kernel
 * would touch freed memory (overflow). */
static struct page *skbk_page(struct page *page)
{
    const struct skbref_block *b = skbref_world_block(skbref_current, (uintptr_t)page);
    if (!b || !b->is_page)
        skbref_overflow();
    return page;
}

static void get_page(struct page *page)
{
    skbk_page(page)->count++;
}

static void put_page(struct page *page)
{
    if (--skbk_page(page)->count == 0)
        skbref_world_free(skbref_current, page);
}

static void *page_address(struct page *page)
{
    skbk_call.mapped = skbk_page(page);
    return page->bytes;
}

/* A fresh page, count 1, holding the page pattern of `id` (Specs/paged.md); NULL when the allocation
 * is injected to fail. */
static struct page *skbk_alloc_page(uint32_t id)
{
    if (skbk_allocation_fails())
        return NULL;
    struct page *page = skbref_world_alloc_unzeroed(skbref_current, sizeof(*page));
    if (!page)
        return NULL;
    skbref_world_block(skbref_current, (uintptr_t)page)->is_page = 1;
    page->id = id;
    page->count = 1;
    skbref_fill_page(page->bytes, page->id);
    return page;
}

static struct page *alloc_pages(gfp_t flags, unsigned int order)
{
    (void)flags;
    return order == 0 ? skbk_alloc_page(0) : NULL;
}

/* What the tree's code calls on fields skbdiff never sets (always NULL). */
static void dst_release(struct dst_entry *dst) { (void)dst; }
static struct dst_entry *dst_clone(struct dst_entry *dst) { return dst; }
static struct sec_path *secpath_get(struct sec_path *sp) { return sp; }
static void secpath_put(struct sec_path *sp) { (void)sp; }

#if defined(CONFIG_NF_CONNTRACK) || defined(CONFIG_NF_CONNTRACK_MODULE)
/* Reached only with a connection attached, which no sequence makes. */
void nf_conntrack_destroy(struct nf_conntrack *nfct)
{
    (void)nfct;
    skbref_world_fail(skbref_current, SKBREF_BUG, SKBREF_BUG_OTHER);
}
#endif

/* The harness sees the plain mem* functions again. */
#undef memcpy
#undef memmove
#undef memset
#define memcpy(to, from, n) __builtin_memcpy((to), (from), (n))
#define memmove(to, from, n) __builtin_memmove((to), (from), (n))
#define memset(p, c, n) __builtin_memset((p), (c), (n))

/*
 * The driver's receive path of add_frag (Specs/paged.md), with the header's own skb_fill_page_desc:
 * -EMSGSIZE when frags[] is full, -EINVAL when the range leaves the page, -ENOMEM when alloc_page
 * fails; then len, data_len and truesize += size.
 */
static int skbref_add_frag(struct sk_buff *skb, unsigned int offset, unsigned int size, uint32_t id)
{
    struct skb_shared_info *si = skb_shinfo(skb);
    struct page *page;

    skbk_check(si, sizeof(*si), 0);
    if (si->nr_frags >= MAX_SKB_FRAGS)
        return -EMSGSIZE;
    if (offset > PAGE_SIZE || size > PAGE_SIZE - offset)
        return -EINVAL;
    page = skbk_alloc_page(id);
    if (!page)
        return -ENOMEM;
    skb_fill_page_desc(skb, si->nr_frags, page, (int)offset, (int)size);
    skb->len += size;
    skb->data_len += size;
    skb->truesize += size;
    return 0;
}

/* Before each call: skb_init, taken from the tree, makes the variant's two caches before its first
 * call; what the call may touch is noted (skbk_check). */
static void skbk_before_call(const struct skbref_call *call)
{
    static int done;
    if (!done) {
        done = 1;
        skb_init();
    }
    struct skbref_world *w = skbref_current;
    const struct sk_buff *skb = call->skb;
    skbk_call.target_head = skb && skbref_world_owns(w, (uintptr_t)skb, sizeof(*skb)) ? skb->head : NULL;
    skbk_call.arena_mark = w->arena + w->arena_used;
    skbk_call.mapped = NULL;
}
#define SKBREF_KERNEL_BEFORE_CALL(call) skbk_before_call(call)
