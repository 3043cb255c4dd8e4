/*
 * skbref_world.h: the private side of a world (shim.c defines it, every variant uses it).
 *
 * A world owns every allocation the kernel helpers make while a call runs in it: each kmalloc
 * buffer, kmem_cache object, sk_buff head and fclone pair is one tracked calloc'd block, so reset can
 * free what the kernel code leaked or a BUG left behind, and every byte access can be checked against
 * the block it must stay in. It also holds the jump target of BUG()/panics/overflow for the call that
 * is running. A world is used by one thread at a time; nothing here is global.
 */
#ifndef SKBREF_WORLD_H
#define SKBREF_WORLD_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "skbref_common.h"

#define SKBREF_HIDDEN __attribute__((visibility("hidden")))

/* One tracked allocation: [p, p + size). */
struct skbref_block {
    unsigned char *p;
    size_t size;
};

struct skbref_world {
    uint32_t cache_bytes;           /* SMP_CACHE_BYTES of the target */
    struct skbref_block *blocks;    /* live allocations, unordered */
    size_t nblocks;
    size_t capacity;
    jmp_buf bug_jump;               /* set by a variant's apply for the call it runs */
    int32_t fail_kind;              /* enum skbref_kind of the BUG/panic/overflow that jumped */
    int64_t fail_value;             /* enum skbref_bug for SKBREF_BUG, else 0 */
};

/* A zero-filled block of size bytes (at least one byte is reserved so the address is unique), or NULL. */
SKBREF_HIDDEN void *skbref_world_alloc(struct skbref_world *w, size_t size);
/* Frees the block starting at p; returns 0, or -1 when no tracked block starts at p. */
SKBREF_HIDDEN int skbref_world_free(struct skbref_world *w, const void *p);
/* The tracked block that starts exactly at start, or NULL. */
SKBREF_HIDDEN const struct skbref_block *skbref_world_block(const struct skbref_world *w, uintptr_t start);
/* 1 if [p, p + n) lies inside one tracked block (n > 0). */
SKBREF_HIDDEN int skbref_world_owns(const struct skbref_world *w, uintptr_t p, size_t n);
/* Ends the running call: records the outcome and longjmps back into apply. */
SKBREF_HIDDEN _Noreturn void skbref_world_fail(struct skbref_world *w, int32_t kind, int64_t value);

#endif /* SKBREF_WORLD_H */
