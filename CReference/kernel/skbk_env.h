/*
 * skbk_env.h: the stand-in kernel environment in which a kernel tree's own skbuff code runs
 * (`--kernel-tree`, Specs/kernel.md). Written here, from the spec and the kernel's documented
 * interfaces; no kernel text. It is included before everything else in a kernel variant (and when
 * skbdiff parses the tree's skbuff.c with libclang to cut its functions out), so that the tree's
 * include/linux/skbuff.h and the functions taken from net/core/skbuff.c compile against it.
 *
 * What it provides, and how each piece maps onto the C reference's world (CReference/src):
 *  - the kernel's basic types, compiler annotations and atomics (one thread: plain int arithmetic);
 *  - BITS_PER_LONG, which decides the representation in the tree's own skbuff.h (`#if BITS_PER_LONG >
 *    32` defines NET_SKBUFF_DATA_USES_OFFSET): 64 in an OFF variant, 32 in a PTR one, on both arches;
 *  - kmalloc and kmem_cache over the world's tracked blocks and data arena, exactly as the C
 *    reference places them, with fail_next_alloc's countdown;
 *  - BUG()/BUG_ON() and the panics as the same outcomes (the BUG's number from the function it fires in);
 *  - memcpy/memset/memmove checked against the world: an access outside its object (for a data buffer:
 *    outside [head, head + end), or exactly the shared info) ends the call with SKBREF_OVERFLOW;
 *  - pages as Specs/paged.md models them (struct page of skbref_world.h), kmap_atomic on their bytes.
 * Everything else the header's inline functions mention is declared and never called by the helpers
 * skbdiff drives; a call of one would fail to link, which the build reports.
 */
#ifndef SKBK_ENV_H
#define SKBK_ENV_H

#define __KERNEL__ 1
#define SKBREF_KERNEL 1

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skbref_world.h"

/* ---- Representation and configuration. ---- */

#ifndef SKBREF_V_OFFSET
#define SKBREF_V_OFFSET 1 /* libclang's parse of skbuff.c: any one variant */
#endif
#if SKBREF_V_OFFSET
#define BITS_PER_LONG 64
#else
#define BITS_PER_LONG 32
#endif
/* Every profile is a networking kernel. */
#define CONFIG_INET 1

/* ---- Types (include/asm-x86/types.h, include/linux/types.h). ---- */

typedef signed char s8;
typedef unsigned char u8;
typedef short s16;
typedef unsigned short u16;
typedef int s32;
typedef unsigned int u32;
typedef long long s64;
typedef unsigned long long u64;
typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u16 __le16;
typedef __u32 __be32;
typedef __u32 __le32;
typedef __u64 __be64;
typedef __u32 __wsum;
typedef __u16 __sum16;
typedef _Bool bool;
#define true 1
#define false 0
typedef unsigned int gfp_t;
typedef s32 dma_cookie_t;
typedef long ssize_t;
typedef long long loff_t;
typedef unsigned long dma_addr_t;

/* include/linux/ktime.h: the tv view exists only on 32-bit builds without CONFIG_KTIME_SCALAR. */
typedef union ktime {
    s64 tv64;
#if !defined(__LP64__) && !defined(CONFIG_KTIME_SCALAR)
    struct {
        s32 nsec, sec;
    } tv;
#endif
} ktime_t;

struct timeval {
    long tv_sec;
    long tv_usec;
};
struct timespec {
    long tv_sec;
    long tv_nsec;
};

static inline struct timeval ktime_to_timeval(ktime_t kt)
{
    struct timeval tv = {(long)(kt.tv64 / 1000000000), (long)(kt.tv64 % 1000000000 / 1000)};
    return tv;
}
static inline ktime_t ktime_get_real(void)
{
    ktime_t k = {0};
    return k;
}
static inline ktime_t timeval_to_ktime(struct timeval tv)
{
    ktime_t k = {(s64)tv.tv_sec * 1000000000 + (s64)tv.tv_usec * 1000};
    return k;
}
#define ktime_to_ns(kt) ((kt).tv64)
static inline ktime_t ktime_set(long secs, unsigned long nsecs)
{
    ktime_t k = {(s64)secs * 1000000000 + (s64)nsecs};
    return k;
}
static inline ktime_t ktime_sub(ktime_t a, ktime_t b)
{
    ktime_t k = {a.tv64 - b.tv64};
    return k;
}

/* ---- Compiler (include/linux/compiler.h), errors, printk. ---- */

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __read_mostly
#define __init
#define __exit
#define __user
#define __force
#define __must_check
#define __always_inline inline
#define __devinit
#define barrier() __asm__ __volatile__("" : : : "memory")
#define smp_mb() barrier()
#define smp_rmb() barrier()
#define smp_wmb() barrier()
#define smp_mb__before_atomic_dec() barrier()
#define smp_mb__after_atomic_dec() barrier()
#define prefetch(x) ((void)(x))

#define EFAULT 14
#define ENOMEM 12
#define EINVAL 22
#define EMSGSIZE 90

#define KERN_EMERG ""
#define KERN_ERR ""
#define KERN_WARNING ""
#define KERN_DEBUG ""
static inline __attribute__((format(printf, 1, 2), unused)) int printk(const char *fmt, ...)
{
    (void)fmt;
    return 0;
}
#define in_irq() 0
#define in_interrupt() 0
#define local_bh_disable() ((void)0)
#define local_bh_enable() ((void)0)
#define might_sleep() ((void)0)
#define might_sleep_if(condition) ((void)(condition))
#define current_text_addr() ((void *)0)
/* include/linux/kernel.h */
#define ALIGN(x, a) (((x) + (a) - 1) & ~((typeof(x))(a) - 1))

/* ---- The world of the running call; BUG; the checks of kernel code's accesses. ---- */

/* The world of the running call, set by the harness's apply (skbref_harness.h; one thread per worker). */
static struct skbref_world *skbref_current;

/* BUG(): the kernel dies; the call ends with the check that fired, named by its function. */
static _Noreturn void skbk_bug(const char *function);
#define BUG() skbk_bug(__func__)
#define BUG_ON(condition)                                                                            \
    do {                                                                                             \
        if (unlikely(condition))                                                                     \
            BUG();                                                                                   \
    } while (0)
/* WARN_ON and BUG_TRAP only print in the kernel. */
#define WARN_ON(condition) ((void)(condition))
#define BUG_TRAP(condition) ((void)(condition))

/* An access the kernel makes to [p, p + n): overflow unless it stays inside its object
 * (skbk_checked in the variant). `writes`: the bytes change (cached digests are dropped). */
static void skbk_check(const void *p, size_t n, int writes);
/* The kernel would have touched memory outside an object: the call ends (skbk_env_impl.h). */
static _Noreturn void skbref_overflow(void);

/* The shared info at `end`: overflow unless it lies in the data buffer that starts at `head`, as the
 * C reference's skb_shinfo() checks (kernel_variant.c). */
static inline void *skbk_shinfo(const void *head, void *end);
static inline void *skbk_memcpy(void *to, const void *from, size_t n)
{
    skbk_check(from, n, 0);
    skbk_check(to, n, 1);
    return n ? __builtin_memcpy(to, from, n) : to;
}
static inline void *skbk_memmove(void *to, const void *from, size_t n)
{
    skbk_check(from, n, 0);
    skbk_check(to, n, 1);
    return n ? __builtin_memmove(to, from, n) : to;
}
static inline void *skbk_memset(void *p, int c, size_t n)
{
    skbk_check(p, n, 1);
    return n ? __builtin_memset(p, c, n) : p;
}
/* The tree's code sees the checked ones; the harness, after it, the plain ones (skbk_env_end.h). */
#undef memcpy
#undef memmove
#undef memset
#define memcpy(to, from, n) skbk_memcpy((to), (from), (n))
#define memmove(to, from, n) skbk_memmove((to), (from), (n))
#define memset(p, c, n) skbk_memset((p), (c), (n))

/* ---- Atomics (include/asm-x86/atomic_{32,64}.h): one thread, plain arithmetic. ---- */

typedef struct {
    int counter;
} atomic_t;
#define ATOMIC_INIT(i) {(i)}
#define atomic_read(v) ((v)->counter)
#define atomic_set(v, i) (((v)->counter) = (i))
static inline void atomic_add(int i, atomic_t *v) { v->counter = (int)((unsigned int)v->counter + (unsigned int)i); }
static inline void atomic_sub(int i, atomic_t *v) { v->counter = (int)((unsigned int)v->counter - (unsigned int)i); }
static inline void atomic_inc(atomic_t *v) { atomic_add(1, v); }
static inline void atomic_dec(atomic_t *v) { atomic_sub(1, v); }
static inline int atomic_add_return(int i, atomic_t *v)
{
    atomic_add(i, v);
    return v->counter;
}
static inline int atomic_sub_return(int i, atomic_t *v)
{
    atomic_sub(i, v);
    return v->counter;
}
#define atomic_inc_return(v) atomic_add_return(1, (v))
#define atomic_dec_return(v) atomic_sub_return(1, (v))
static inline int atomic_dec_and_test(atomic_t *v) { return atomic_sub_return(1, v) == 0; }
static inline int atomic_inc_and_test(atomic_t *v) { return atomic_add_return(1, v) == 0; }

/* ---- Locks and lists: the helpers skbdiff drives take none; one thread. ---- */

typedef struct {
    int unused;
} spinlock_t;
#define spin_lock_init(l) ((void)(l))
#define spin_lock(l) ((void)(l))
#define spin_unlock(l) ((void)(l))
#define spin_lock_bh(l) ((void)(l))
#define spin_unlock_bh(l) ((void)(l))
#define spin_lock_irqsave(l, f) ((void)(l), (f) = 0)
#define spin_unlock_irqrestore(l, f) ((void)(l), (void)(f))
struct lock_class_key {
    int unused;
};
#define lockdep_set_class(l, k) ((void)(l), (void)(k))

/* ---- Caches and memory (include/linux/cache.h, slab.h, mm.h). ---- */

/* L1_CACHE_BYTES is an int constant in the kernel; here the target's, from the world. */
#define L1_CACHE_BYTES ((int)skbref_current->cache_bytes)
#define SMP_CACHE_BYTES L1_CACHE_BYTES
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
_Static_assert(SKBREF_PAGE_SIZE == 4096, "the world's pages are PAGE_SIZE");
/* 1 << min(MAX_ORDER + PAGE_SHIFT - 1, 25) with MAX_ORDER 11 (spec section 8). */
#define KMALLOC_MAX_SIZE (1UL << 22)

#define __GFP_DMA 0x01u
#define __GFP_HIGHMEM 0x02u
#define __GFP_WAIT 0x10u
#define __GFP_HIGH 0x20u
#define __GFP_IO 0x40u
#define __GFP_FS 0x80u
#define __GFP_NOWARN 0x200u
#define __GFP_COMP 0x4000u
#define GFP_ATOMIC (__GFP_HIGH)
#define GFP_NOIO (__GFP_WAIT)
#define GFP_KERNEL (__GFP_WAIT | __GFP_IO | __GFP_FS)
#define SLAB_HWCACHE_ALIGN 0x00002000UL
#define SLAB_PANIC 0x00040000UL

/* A slab cache: a name and an object size; its objects are tracked blocks of the world. */
struct kmem_cache {
    const char *name;
    size_t size;
};
static struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align, unsigned long flags,
                                     void (*ctor)(struct kmem_cache *, void *));
static void *kmem_cache_alloc(struct kmem_cache *cachep, gfp_t flags);
static void kmem_cache_free(struct kmem_cache *cachep, void *objp);
#define kmem_cache_alloc_node(cachep, flags, node) kmem_cache_alloc((cachep), (flags))
static void *kmalloc(size_t size, gfp_t flags);
static void kfree(const void *objp);
#define kmalloc_node(size, flags, node) kmalloc((size), (flags))
#define kmalloc_track_caller(size, flags) kmalloc((size), (flags))
#define kmalloc_node_track_caller(size, flags, node) kmalloc((size), (flags))

/* ---- Pages (Specs/paged.md): struct page is the world's. ---- */

static void get_page(struct page *page);
static void put_page(struct page *page);
static struct page *alloc_pages(gfp_t flags, unsigned int order);
#define alloc_page(flags) alloc_pages((flags), 0)
static void *page_address(struct page *page);
enum km_type {
    KM_SKB_SUNRPC_DATA,
    KM_SKB_DATA_SOFTIRQ,
    KM_USER0,
    KM_USER1,
};
#define kmap_atomic(page, type) page_address(page)
#define kunmap_atomic(addr, type) ((void)(addr))
#define kmap(page) page_address(page)
#define kunmap(page) ((void)(page))

/* ---- What the header's other inline functions mention: declared, never reached. ---- */

struct sock;
struct net_device;
struct dst_entry;
struct sec_path;
struct scatterlist;
struct ts_config;
struct ts_state;
struct iovec;
struct pipe_inode_info;
struct file;
struct socket;
struct poll_table_struct;
struct splice_pipe_desc;
struct rcu_head {
    struct rcu_head *next;
    void (*func)(struct rcu_head *head);
};

__wsum csum_partial(const void *buff, int len, __wsum sum);
__wsum csum_partial_copy_nocheck(const void *src, void *dst, int len, __wsum sum);
__wsum csum_and_copy_from_user(const void __user *src, void *dst, int len, __wsum sum, int *errp);
__sum16 csum_fold(__wsum csum);
static inline __wsum csum_add(__wsum csum, __wsum addend)
{
    csum += addend;
    return csum + (csum < addend);
}
static inline __wsum csum_sub(__wsum csum, __wsum addend) { return csum_add(csum, ~addend); }
static inline __wsum csum_block_add(__wsum csum, __wsum csum2, int offset)
{
    u32 sum = (u32)csum2;
    if (offset & 1)
        sum = ((sum & 0xFF00FF) << 8) + ((sum >> 8) & 0xFF00FF);
    return csum_add(csum, (__wsum)sum);
}
static inline __wsum csum_block_sub(__wsum csum, __wsum csum2, int offset)
{
    u32 sum = (u32)csum2;
    if (offset & 1)
        sum = ((sum & 0xFF00FF) << 8) + ((sum >> 8) & 0xFF00FF);
    return csum_sub(csum, (__wsum)sum);
}
#define copy_from_user(to, from, n) ((unsigned long)(n))
static void dst_release(struct dst_entry *dst);
static struct dst_entry *dst_clone(struct dst_entry *dst);
static struct sec_path *secpath_get(struct sec_path *sp);
static void secpath_put(struct sec_path *sp);
unsigned int textsearch_find(struct ts_config *conf, struct ts_state *state);

#endif /* SKBK_ENV_H */
