/*
 * skbref_world.h: the private side of a world (shim.c defines it, every variant uses it).
 *
 * A world owns every allocation the kernel helpers make while a call runs in it: each kmalloc
 * buffer, kmem_cache object, sk_buff head and fclone pair is one tracked block, so reset can free
 * what the kernel code leaked or a BUG left behind, and every byte access can be checked against the
 * block it must stay in. Data objects (kmalloc and the modelled cache of alloc_skb_from_cache) come
 * from the world's 512 MiB arena, placed as Specs/snapshot.md says so that differences between data
 * addresses equal the Swift model's; sk_buff heads are calloc'd. The world also holds the jump target
 * of BUG()/panics/overflow for the running call. A world is used by one thread at a time; nothing here
 * is global.
 */
#ifndef SKBREF_WORLD_H
#define SKBREF_WORLD_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "skbref_common.h"

#define SKBREF_HIDDEN __attribute__((visibility("hidden")))

/* The data arena of one sequence (Specs/snapshot.md): kmalloc fails once it is used up. */
#define SKBREF_ARENA_SIZE ((size_t)512 << 20)

/* One tracked allocation: [p, p + size), in the arena or calloc'd. Fresh memory reads as zero
 * (Specs/snapshot.md, "Bytes"), but an arena object is not zeroed when allocated: only [0, lo) and
 * [hi, size) hold bytes written or zeroed since; [lo, hi) is zero by definition and is zeroed when
 * an access first reaches into it (skbref_world_touch), so the work follows the bytes used. */
struct skbref_block {
    unsigned char *p;
    size_t size;
    int in_arena;
    int is_page;                    /* a struct page (the kernel variants' stand-in checks accesses by kind) */
    uint64_t version;               /* changes whenever its bytes are written (cached digests) */
    size_t lo, hi;                  /* [lo, hi): not yet zeroed, reads as zero; lo == hi: all real */
};

/* PAGE_SIZE on every modelled target. */
#define SKBREF_PAGE_SIZE 4096

/* The largest caller's buffer the skb_copy_bits operation copies into (Specs/paged.md). */
#define SKBREF_COPY_BITS_MAX 65536

/* struct page as the paged helpers need it (Specs/paged.md): an id (1 + the index in the sequence of
 * the call that allocated it),
 * the count get_page/put_page move, and PAGE_SIZE bytes of content, the page pattern (never written
 * by the helpers). A tracked, calloc'd block: it counts as a live allocation until its count drops
 * to 0. */
struct page {
    uint32_t id;
    int32_t count;
    unsigned char bytes[SKBREF_PAGE_SIZE];
};

/* A digest of [data, tail) already computed, and what it was computed from. */
struct skbref_digest_entry {
    const void *skb;
    uintptr_t head;
    uint64_t version;
    int64_t data, tail;
    uint64_t digest;
};

#define SKBREF_DIGEST_CACHE 64

/* The largest struct sk_buff of any variant, for the state memo's raw copies. */
#define SKBREF_SKB_MAX 320

/* A snapshot already taken, and what it was computed from: the sk_buff's bytes, the block that
 * starts at its head, that block's bytes (version) and dataref, or, when no block starts there, the
 * set of blocks (epoch). The state is a pure function of these, so while they are unchanged it is
 * reused instead of computed again. */
struct skbref_state_memo {
    const void *skb;
    uint64_t epoch;
    uint64_t frag_epoch;            /* w->frag_epoch when taken: pages and frags unchanged since */
    size_t block;                   /* index in blocks, or SKBREF_NO_BLOCK when no block starts at head */
    uint64_t version;
    struct skbref_state state;
    unsigned char raw[SKBREF_SKB_MAX];
};

#define SKBREF_STATE_MEMO 64
#define SKBREF_NO_BLOCK SIZE_MAX

struct skbref_world {
    uint32_t cache_bytes;           /* SMP_CACHE_BYTES of the target */
    struct skbref_block *blocks;    /* live allocations, unordered */
    size_t nblocks;
    size_t capacity;
    unsigned char *arena;           /* SKBREF_ARENA_SIZE bytes, mmap'd */
    size_t arena_used;              /* the next data object goes at arena + arena_used */
    size_t arena_high;              /* the most ever used, for ASan's shadow */
    uint64_t writes;                /* numbers writes and new blocks; never reset */
    uint64_t epoch;                 /* changes whenever a block is tracked or freed; never reset */
    uint64_t frag_epoch;            /* changes whenever a page count or a frag descriptor may; never reset */
    unsigned char *objects;         /* the kernel worker's: its other objects, placed one after another */
    size_t objects_used;
    unsigned char *scratch;         /* the snapshot's copy of a nonlinear packet */
    size_t scratch_size;
    struct skbref_state_memo memo[SKBREF_STATE_MEMO]; /* by skb address */
    struct skbref_digest_entry digests[SKBREF_DIGEST_CACHE]; /* by skb address */
    jmp_buf bug_jump;               /* set by a variant's apply for the call it runs */
    int32_t fail_kind;              /* enum skbref_kind of the BUG/panic/overflow that jumped */
    int64_t fail_value;             /* enum skbref_bug for SKBREF_BUG, else 0 */
    int32_t mutant;                 /* enum skbref_mutant switched on, or 0 */
    uint32_t fail_countdown;        /* not 0: the allocation that brings it to 0 fails */
};

/* A zero-filled calloc'd block of size bytes (sk_buff heads and fclone pairs), or NULL. */
SKBREF_HIDDEN void *skbref_world_alloc(struct skbref_world *w, size_t size);
/* The same without zeroing, for a block whose every byte is written before it is read (a page's
 * content, the skb_copy_bits operation's buffer). */
SKBREF_HIDDEN void *skbref_world_alloc_unzeroed(struct skbref_world *w, size_t size);
/* A zero-filled data object of size bytes from the arena, or NULL once the arena is used up. */
SKBREF_HIDDEN void *skbref_world_arena_alloc(struct skbref_world *w, size_t size);
/* Frees the block starting at p; returns 0, or -1 when no tracked block starts at p. */
SKBREF_HIDDEN int skbref_world_free(struct skbref_world *w, const void *p);
/* The index of the tracked block that starts exactly at start, or nblocks. */
SKBREF_HIDDEN size_t skbref_world_index(const struct skbref_world *w, uintptr_t start);
/* The tracked block that starts exactly at start, or NULL. */
SKBREF_HIDDEN struct skbref_block *skbref_world_block(const struct skbref_world *w, uintptr_t start);
/* Make [off, off + n) of the block real before it is accessed (off + n <= size): zero the part of it
 * that lies in [lo, hi), unless `writes` says the access overwrites all of it, extending whichever
 * side of [lo, hi) costs fewer bytes. */
SKBREF_HIDDEN void skbref_world_touch(struct skbref_block *b, size_t off, size_t n, int writes);
/* 1 if [p, p + n) lies inside one tracked block (n > 0). */
SKBREF_HIDDEN int skbref_world_owns(const struct skbref_world *w, uintptr_t p, size_t n);
/* Record that bytes of the block starting at start were written. */
SKBREF_HIDDEN void skbref_world_written(struct skbref_world *w, uintptr_t start);
/* The digest of [p, p + n), from the cache when neither the skb's range nor its block changed. */
SKBREF_HIDDEN uint64_t skbref_world_digest(struct skbref_world *w, const void *skb, struct skbref_block *block,
                                           int64_t data, int64_t tail);
/* A page's bytes: the pattern of page `id` (Specs/paged.md), mirrored by the Swift model. */
SKBREF_HIDDEN void skbref_fill_page(unsigned char *p, uint32_t id);
/* Ends the running call: records the outcome and longjmps back into apply. */
SKBREF_HIDDEN _Noreturn void skbref_world_fail(struct skbref_world *w, int32_t kind, int64_t value);

#endif /* SKBREF_WORLD_H */
