/*
 * skbref_common.h: what every variant of the C reference shares.
 *
 * The kernel types the 2.6.24 structures are built from, struct skb_shared_info (it has no CONFIG_
 * conditionals and no sk_buff_data_t field, so it is declared once), and the harness through which
 * Swift drives a variant: a world (allocations, cache line, the BUG jump), calls, results and the
 * per-skb observable state. The contract is documented in Specs/snapshot.md.
 */
#ifndef SKBREF_COMMON_H
#define SKBREF_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* A kernel variant (CReference/kernel) takes these from its tree and the stand-in environment. */
#ifndef SKBREF_KERNEL

typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef int32_t s32;
typedef int64_t s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef s32 dma_cookie_t;

/* include/linux/ktime.h: the tv view exists only on 32-bit builds without CONFIG_KTIME_SCALAR. */
typedef union ktime {
    s64 tv64;
#if !defined(__LP64__) && !defined(CONFIG_KTIME_SCALAR)
    struct {
        s32 nsec, sec;
    } tv;
#endif
} ktime_t;

/* include/asm-x86/atomic_{32,64}.h */
typedef struct {
    int counter;
} atomic_t;

struct sock;
struct net_device;
struct dst_entry;
struct sec_path;
struct nf_conntrack;
struct nf_bridge_info;
struct page;
struct sk_buff;

/* 65536/PAGE_SIZE + 2 with 4 KiB pages */
#define MAX_SKB_FRAGS 18

typedef struct skb_frag_struct {
    struct page *page;
    __u32 page_offset;
    __u32 size;
} skb_frag_t;

struct skb_shared_info {
    atomic_t dataref;
    unsigned short nr_frags;
    unsigned short gso_size;
    unsigned short gso_segs;
    unsigned short gso_type;
    __be32 ip6_frag_id;
    struct sk_buff *frag_list;
    skb_frag_t frags[MAX_SKB_FRAGS];
};

#endif /* !SKBREF_KERNEL */

#ifndef SKBREF_LAYOUT_SINGLE

/* ---- The harness: how Swift drives a variant. ---- */

/* Configuration profiles (Specs/snapshot.md, "Targets"). */
enum skbref_profile {
    SKBREF_PROFILE_MINIMAL = 0,
    SKBREF_PROFILE_TYPICAL = 1,
    SKBREF_PROFILE_DISTRO = 2,
};

/* The operations, in catalogue order; names are the kernel's (skbref_op_name). */
enum skbref_op {
    SKBREF_OP_alloc_skb,
    SKBREF_OP_alloc_skb_fclone,
    SKBREF_OP_dev_alloc_skb,
    SKBREF_OP_alloc_skb_from_cache,
    SKBREF_OP_skb_reserve,
    SKBREF_OP_skb_put,
    SKBREF_OP___skb_put,
    SKBREF_OP_skb_push,
    SKBREF_OP___skb_push,
    SKBREF_OP_skb_pull,
    SKBREF_OP___skb_pull,
    SKBREF_OP_skb_trim,
    SKBREF_OP___skb_trim,
    SKBREF_OP_skb_headroom,
    SKBREF_OP_skb_tailroom,
    SKBREF_OP_skb_clone,
    SKBREF_OP_skb_copy,
    SKBREF_OP_pskb_copy,
    SKBREF_OP_pskb_expand_head,
    SKBREF_OP_skb_realloc_headroom,
    SKBREF_OP_skb_copy_expand,
    SKBREF_OP_skb_cow,
    SKBREF_OP_skb_cow_head,
    SKBREF_OP_skb_pad,
    SKBREF_OP_skb_padto,
    SKBREF_OP_skb_unshare,
    SKBREF_OP_skb_share_check,
    SKBREF_OP_skb_get,
    SKBREF_OP_kfree_skb,
    SKBREF_OP_skb_header_release,
    SKBREF_OP_skb_cloned,
    SKBREF_OP_skb_header_cloned,
    SKBREF_OP_skb_shared,
    SKBREF_OP_skb_reset_mac_header,
    SKBREF_OP_skb_reset_network_header,
    SKBREF_OP_skb_reset_transport_header,
    SKBREF_OP_skb_set_mac_header,
    SKBREF_OP_skb_set_network_header,
    SKBREF_OP_skb_set_transport_header,
    SKBREF_OP_skb_mac_header_was_set,
    SKBREF_OP_skb_reset_tail_pointer,
    SKBREF_OP_skb_set_tail_pointer,
    SKBREF_OP_skb_tail_pointer,
    SKBREF_OP_skb_end_pointer,
    /* Paged data (Specs/paged.md). */
    SKBREF_OP_skb_is_nonlinear,
    SKBREF_OP_skb_headlen,
    SKBREF_OP_skb_pagelen,
    SKBREF_OP_pskb_may_pull,
    SKBREF_OP___pskb_pull_tail,
    SKBREF_OP_pskb_pull,
    SKBREF_OP_pskb_trim,
    SKBREF_OP_skb_linearize,
    SKBREF_OP_skb_copy_bits,
    /* Not helpers: fields drivers and the stack write directly. */
    SKBREF_OP_set_csum,
    SKBREF_OP_set_mac_len,
    SKBREF_OP_set_gso,
    SKBREF_OP_set_gso_type,
    SKBREF_OP_set_ip6_frag_id,
    /* A driver hanging a fresh page off the skb: alloc_page, skb_fill_page_desc at nr_frags, and
     * len, data_len and truesize += size (Specs/paged.md). */
    SKBREF_OP_add_frag,
    /* Harness, no target: the N-th kmalloc/kmem_cache_alloc from now fails (0: none). */
    SKBREF_OP_fail_next_alloc,
    SKBREF_OP_COUNT
};

/* The kernel name of an operation ("skb_put"), or NULL past the end. */
const char *skbref_op_name(uint32_t op);

/* Faults that can be switched on in a world at run time (Specs/mutants.txt; the Swift model has the
 * same under the same ids, SKBuff's Mutation). 0: none. */
enum skbref_mutant {
    SKBREF_MUTANT_NONE = 0,
    SKBREF_MUTANT_put_ge,
    SKBREF_MUTANT_push_le,
    SKBREF_MUTANT_pull_ge,
    SKBREF_MUTANT_trim_ge,
    SKBREF_MUTANT_align_plus_one,
    SKBREF_MUTANT_truesize_shinfo,
    SKBREF_MUTANT_expand_ptr_mac_kept,
    SKBREF_MUTANT_expand_csum_kept,
    SKBREF_MUTANT_expand_truesize,
    SKBREF_MUTANT_expand_hdr_len_kept,
    SKBREF_MUTANT_clone_no_dataref,
    SKBREF_MUTANT_release_ignores_nohdr,
    SKBREF_MUTANT_header_release_one,
    SKBREF_MUTANT_header_cloned_plus,
    SKBREF_MUTANT_fclone_stays_busy,
    SKBREF_MUTANT_clone_hdr_len_kept,
    SKBREF_MUTANT_clone_keeps_nohdr,
    SKBREF_MUTANT_realloc_delta_lt,
    SKBREF_MUTANT_cow_ge,
    SKBREF_MUTANT_pad_gt,
    SKBREF_MUTANT_pad_failure_keeps,
    SKBREF_MUTANT_copy_expand_csum_kept,
    SKBREF_MUTANT_copy_expand_off_headers_kept,
    SKBREF_MUTANT_copy_no_gso_segs,
    SKBREF_MUTANT_copy_ip6_frag_id,
    SKBREF_MUTANT_clone_no_mac_len,
    SKBREF_MUTANT_from_cache_truesize,
    SKBREF_MUTANT_dev_alloc_pad,
    SKBREF_MUTANT_reserve_len,
    SKBREF_MUTANT_expand_failure_uncloned,
    SKBREF_MUTANT_set_tail_off_forgets_data,
    SKBREF_MUTANT_put_returns_new_tail,
    SKBREF_MUTANT_pull_tail_keeps_exact_frag,
    SKBREF_MUTANT_expand_no_get_page,
    SKBREF_MUTANT_trim_end_le,
    SKBREF_MUTANT_pskb_copy_no_get_page,
    SKBREF_MUTANT_COUNT
};

/* The catalogue id of a mutant ("put-ge"), or NULL for NONE and past the end. */
const char *skbref_mutant_name(uint32_t mutant);

/* How a call ended. */
enum skbref_kind {
    SKBREF_OK = 0,          /* returned; value holds what it returned */
    SKBREF_NULL = 1,        /* returned a NULL pointer or a NULL sk_buff */
    SKBREF_PANIC_OVER = 2,  /* skb_over_panic */
    SKBREF_PANIC_UNDER = 3, /* skb_under_panic */
    SKBREF_BUG = 4,         /* BUG()/BUG_ON(); value holds the enum skbref_bug */
    SKBREF_OVERFLOW = 5,    /* the kernel would have touched memory outside an object (spec section 8) */
};

/* Which check fired, for SKBREF_BUG. */
enum skbref_bug {
    SKBREF_BUG_LINEAR_ASSERT = 1,       /* SKB_LINEAR_ASSERT in __skb_put/skb_put: data_len != 0 */
    SKBREF_BUG_PULL_DATA_LEN = 2,       /* __skb_pull: len < data_len after the subtraction */
    SKBREF_BUG_HEADER_RELEASE = 3,      /* skb_header_release: nohdr already set */
    SKBREF_BUG_EXPAND_SHARED = 4,       /* pskb_expand_head: skb_shared(skb) */
    SKBREF_BUG_COPY_BITS = 5,           /* skb_copy/skb_copy_expand/__pskb_pull_tail: skb_copy_bits failed */
    SKBREF_BUG_BAD_FREE = 6,            /* the harness: a free of something never allocated */
    SKBREF_BUG_OTHER = 7,               /* a kernel variant: a BUG() the C reference has no check for */
};

/*
 * One call. skb is the target (NULL for the allocators). arg[] holds the integer arguments in
 * catalogue order, each already truncated to its C type and sign- or zero-extended to 64 bits.
 * pattern seeds the bytes skb_put/__skb_put/skb_push/__skb_push write.
 */
struct skbref_call {
    uint32_t op;
    uint32_t pattern;
    void *skb;
    int64_t arg[2];
};

/*
 * What a call did. value: the int returned; for a returned pointer, its offset from the head of the
 * skb it points into (the target's head after the call); the bug number for SKBREF_BUG.
 * skb: the sk_buff returned by allocators, clone, copies, skb_get, skb_unshare and skb_share_check.
 * consumed: 1 if the call dropped the caller's reference to the target (kfree_skb; skb_pad/skb_padto
 * on failure; skb_unshare/skb_share_check when they replaced it).
 */
struct skbref_result {
    int32_t kind;
    int32_t consumed;
    int64_t value;
    void *skb;
};

enum skbref_header_kind {
    SKBREF_HEADER_OFFSET = 0, /* inside [head, end + sizeof(struct skb_shared_info)) */
    SKBREF_HEADER_UNSET = 1,  /* PTR: NULL */
    SKBREF_HEADER_WILD = 2,   /* anything else */
};

/* The observable state of one sk_buff (Specs/snapshot.md). Offsets are from head. */
struct skbref_state {
    int64_t data;
    int64_t tail;
    int64_t end;
    int64_t header[3];        /* mac, network, transport: the offset when header_kind is OFFSET, else 0 */
    uint64_t digest;          /* of the bytes [data, tail), when digest_valid */
    uint32_t len;
    uint32_t data_len;
    uint32_t truesize;
    uint32_t headroom;        /* skb_headroom() */
    int32_t tailroom;         /* skb_tailroom() */
    uint32_t users;
    uint32_t dataref;         /* of skb_shinfo(skb); 0 when the shinfo is not inside the buffer */
    uint8_t cloned;
    uint8_t nohdr;
    uint8_t fclone;
    uint8_t digest_valid;     /* 0 <= data <= tail <= end */
    uint8_t header_kind[3];   /* enum skbref_header_kind, mac, network, transport */
    uint8_t ip_summed;
    uint32_t csum;            /* the csum union as one word: csum, or csum_start | csum_offset << 16 */
    uint16_t hdr_len;
    uint16_t mac_len;
    uint16_t nr_frags;        /* this and the next four: of skb_shinfo(skb), 0 as dataref is */
    uint16_t gso_size;
    uint16_t gso_segs;
    uint16_t gso_type;
    uint32_t ip6_frag_id;
    uint64_t frags_digest;    /* of the nr_frags descriptors and their pages' counts; 0 without frags */
    uint64_t packet_digest;   /* of skb_copy_bits(skb, 0, buf, len) when nonlinear and it can succeed; else 0 */
};
/* No byte of the struct is padding, so the Swift model's SKBState is the same bytes (bit copy, memcmp). */
_Static_assert(sizeof(struct skbref_state) == 128, "struct skbref_state mirrors the Swift SKBState, 128 bytes");

/* One frag as the snapshot's frags digest sees it (Specs/paged.md): the page's id, the frag's
 * page_offset and size, the page's count; id and count 0xFFFFFFFF for a page no longer live. */
struct skbref_frag_state {
    uint32_t page;
    uint32_t page_offset;
    uint32_t size;
    uint32_t count;
};

/* One field of a struct as the compiler laid it out (bit_width 0: not a bit-field). */
struct skbref_field {
    const char *name;
    uint32_t offset;      /* bytes; for a bit-field, the byte holding its first bit */
    uint32_t size;        /* bytes; 0 for a bit-field */
    uint32_t bit_offset;  /* bits from the start of the struct */
    uint32_t bit_width;
};

struct skbref_world;

/* A world owns every allocation made by the calls run in it. cache_bytes is SMP_CACHE_BYTES. NULL
 * when cache_bytes is not a power of two or no data arena could be mapped at or above 8 GiB. */
struct skbref_world *skbref_world_create(uint32_t cache_bytes);
/* Switch a fault on (enum skbref_mutant) for the calls run in w from now on; 0 switches it off. */
void skbref_world_set_mutant(struct skbref_world *w, int32_t mutant);
/* Forget a pending fail_next_alloc (the call it was for was not run). */
void skbref_world_cancel_injected_failure(struct skbref_world *w);
/* Frees every allocation still live (live, frozen after a BUG, or lost by the kernel code). */
void skbref_world_reset(struct skbref_world *w);
void skbref_world_destroy(struct skbref_world *w);
/* Live allocations, for leak tests. */
uint32_t skbref_world_live_allocations(const struct skbref_world *w);
/* Where the world's data arena starts (Specs/snapshot.md), for tests. */
uintptr_t skbref_world_arena_base(const struct skbref_world *w);

/* The byte pattern and the digest, shared by every variant and mirrored by the Swift model. */
void skbref_fill_pattern(unsigned char *to, size_t n, uint32_t pattern);
uint64_t skbref_digest(const unsigned char *p, size_t n);

/* A compiled variant: one representation and one CONFIG profile (skbref_variant_for finds it). */
struct skbref_variant {
    const char *name;             /* "off-minimal" */
    int32_t uses_offset;          /* NET_SKBUFF_DATA_USES_OFFSET */
    int32_t profile;              /* enum skbref_profile */
    uint32_t sizeof_sk_buff;
    uint32_t sizeof_skb_shared_info;
    uint32_t sizeof_sk_buff_data_t;
    uint32_t alignof_sk_buff;
    void (*apply)(struct skbref_world *w, const struct skbref_call *call, struct skbref_result *result);
    void (*state)(struct skbref_world *w, const void *skb, struct skbref_state *out);
    /* The skb's frags (at most MAX_SKB_FRAGS records into out), for reports; returns how many. */
    uint32_t (*frags)(struct skbref_world *w, const void *skb, struct skbref_frag_state *out);
    const struct skbref_field *sk_buff_fields;
    uint32_t sk_buff_field_count;
    const struct skbref_field *shinfo_fields;
    uint32_t shinfo_field_count;
    /* NULL: every operation; else 0 for an operation the variant lacks (a kernel tree's). */
    int (*supports)(uint32_t op);
};

/* For fuzzer processes: every sequence allocates and frees packet buffers of up to 4 MiB, and by
 * default glibc hands large freed blocks back to the kernel, so the next sequence pays a page fault
 * per page again (measured: a quarter of a run). This keeps them in the process. */
void skbref_keep_freed_memory(void);

/* The variant compiled for a representation (uses_offset 1: OFF) and an enum skbref_profile, or NULL. */
const struct skbref_variant *skbref_variant_for(int uses_offset, int profile);

#endif /* !SKBREF_LAYOUT_SINGLE */
#endif /* SKBREF_COMMON_H */
