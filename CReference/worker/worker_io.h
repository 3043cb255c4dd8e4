/*
 * worker_io.h: the i386 worker's wire format (Sources/SKBDiff/Worker.swift speaks the other end).
 *
 * Every message is a header {u32 tag, u32 size} and size bytes of payload, native (little-endian)
 * integers; a reply echoes its request's tag. The worker holds one world and one variant at a time
 * and its own pool of references (Specs/snapshot.md, "The pool"), so that a whole sequence can be
 * sent at once.
 */
#ifndef SKBREF_WORKER_IO_H
#define SKBREF_WORKER_IO_H

#include <stddef.h>
#include <stdint.h>

#define SKBREF_WORKER_VERSION 3

/* A batch reply's digest for a sequence the variant did not run: it calls an operation the variant
 * lacks (struct skbref_variant's supports). */
#define SKBREF_WORKER_SKIPPED 0x736b697070656421ull

enum skbref_worker_tag {
    WORKER_HELLO = 1,    /* -> version, pointer size, variant count, each variant's sizes, alignments, fields */
    WORKER_OPEN = 2,     /* {i32 uses_offset, i32 profile, u32 cache_bytes} -> {i32 ok, u32 arena_base} */
    WORKER_RESET = 3,    /* {} -> nothing */
    WORKER_MUTANT = 4,   /* {i32 mutant} -> nothing */
    WORKER_RUN = 5,      /* call -> outcome */
    WORKER_STATE = 6,    /* {i32 reference} -> reference state */
    WORKER_SNAPSHOT = 7, /* {} -> {u32 n} n reference states */
    WORKER_LIVE = 8,     /* {} -> {u32 live allocations} */
    WORKER_BATCH = 9,    /* a sequence -> per call its outcome and states, then the end (below) */
};

/* Effects of a call on the pool (SKBDiff's Operation.Effect). */
enum skbref_worker_effect {
    WORKER_EFFECT_NONE = 0,
    WORKER_EFFECT_PRODUCES = 1,
    WORKER_EFFECT_CONSUMES = 2,
    WORKER_EFFECT_CONSUMES_ON_FAILURE = 3,
    WORKER_EFFECT_REPLACES = 4,
};

struct skbref_worker_header {
    uint32_t tag;
    uint32_t size;
};

struct skbref_worker_call {
    uint32_t op;          /* enum skbref_op */
    uint32_t pattern;
    int32_t target;       /* a reference, or -1 for the allocators */
    uint32_t effect;      /* enum skbref_worker_effect */
    int64_t arg[2];
};

struct skbref_worker_outcome {
    int32_t ran;          /* 0: the target could not take the call, which was not run */
    int32_t kind;         /* enum skbref_kind */
    int64_t value;
    uint32_t skb;         /* the sk_buff it returned (its 32-bit address), or 0 */
    int32_t consumed;     /* struct skbref_result's */
};

/* One reference's state: present 0 for an empty or ended reference (the rest is then zero). */
struct skbref_worker_state {
    int32_t reference;
    int32_t present;
    int32_t frozen;
    int32_t pad;
    unsigned char state[128]; /* struct skbref_state */
};

/* WORKER_BATCH: {u32 sequences}, then each sequence, run from an empty pool: {u32 calls, u32
 * leak_check}, then per call a struct skbref_worker_call followed by
 * {i32 before, u32 touched} and touched i32 references. The reply: per call its outcome, the state
 * of `before` taken before the call when before >= 0, and the state of each touched reference after
 * it; then {u32 n} and the n live or frozen references after the last call; then {u32 live}: the
 * allocations left once every runnable reference is freed (leak_check set and no call froze
 * anything), else 0xFFFFFFFF. Those records (whose outcome records have skb and consumed 0: skbdiff
 * cannot know the worker's addresses) are not sent: the reply holds, per sequence in order, the u64
 * skbref_digest of that sequence's records, which skbdiff compares with the digest of the records it
 * expects; a sequence the variant cannot run (it lacks one of its operations) gets SKBREF_WORKER_SKIPPED
 * instead. */

long worker_read(int fd, void *p, size_t n);
long worker_write(int fd, const void *p, size_t n);
_Noreturn void worker_exit(int code);

#endif
