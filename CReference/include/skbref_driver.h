/*
 * skbref_driver.h: one way to drive a variant of the C reference (or of a kernel tree's code):
 * a pool of references (Specs/snapshot.md, "The pool") over one world, calls run as SKBDiff's
 * CImplementation runs them, and whole sequences run as batches whose records are digested.
 *
 * The workers (CReference/worker: the i386 C reference, a kernel tree's code) serve their requests
 * with it; on x86_64 skbdiff runs the C reference's batches with it in process. Either way a batch
 * is the same bytes and its reply the same digests (worker_io.h's WORKER_BATCH carries them).
 */
#ifndef SKBREF_DRIVER_H
#define SKBREF_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "skbref_common.h"

/* A batch's digest for a sequence the variant did not run: it calls an operation the variant lacks
 * (struct skbref_variant's supports). */
#define SKBREF_WORKER_SKIPPED 0x736b697070656421ull

/* Effects of a call on the pool (SKBDiff's Operation.Effect). */
enum skbref_worker_effect {
    WORKER_EFFECT_NONE = 0,
    WORKER_EFFECT_PRODUCES = 1,
    WORKER_EFFECT_CONSUMES = 2,
    WORKER_EFFECT_CONSUMES_ON_FAILURE = 3,
    WORKER_EFFECT_REPLACES = 4,
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
    uint32_t skb;         /* the sk_buff it returned (its low 32 address bits), or 0 */
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

/* Batches. {u32 sequences}, then each sequence, run from an empty pool: {u32 calls, u32
 * leak_check}, then per call a struct skbref_worker_call followed by {i32 before, u32 touched} and
 * touched i32 references. A sequence's records: per call its outcome, the state of `before` taken
 * before the call when before >= 0, and the state of each touched reference after it; then {u32 n}
 * and the n live or frozen references after the last call; then {u32 live}: the allocations left
 * once every runnable reference is freed (leak_check set and no call froze anything), else
 * 0xFFFFFFFF. The outcome records have skb and consumed 0: skbdiff cannot know the variant's
 * addresses. The reply is not the records but, per sequence in order, the u64 skbref_digest of its
 * records, which skbdiff compares with the digest of the records it expects; a sequence the variant
 * cannot run (it lacks one of its operations) gets SKBREF_WORKER_SKIPPED instead. */

struct skbref_driver;

/* A driver of no world yet (skbref_driver_open gives it one), or NULL when out of memory. */
struct skbref_driver *skbref_driver_create(void);
void skbref_driver_destroy(struct skbref_driver *d);
/* Drive `variant` over `world` (the caller's, not freed here) from an empty pool. */
void skbref_driver_open(struct skbref_driver *d, struct skbref_world *world, const struct skbref_variant *variant);
/* An empty pool and an empty world. */
void skbref_driver_reset(struct skbref_driver *d);
/* Run one call; the pool settles it (a call on an empty, ended or frozen reference is not run). */
struct skbref_worker_outcome skbref_driver_run(struct skbref_driver *d, const struct skbref_worker_call *call);
/* Reference r's state (present 0 when it is empty or ended). */
void skbref_driver_state(const struct skbref_driver *d, int32_t r, struct skbref_worker_state *out);
/* References created so far, and whether r holds an sk_buff. */
uint32_t skbref_driver_count(const struct skbref_driver *d);
int skbref_driver_holds(const struct skbref_driver *d, int32_t r);
/* Run the batch in[0, size) (above): one digest per sequence into digests, which has room for
 * capacity of them. Returns the number of sequences, or -1 with *error set to what is wrong with the
 * batch (short, or naming more references than it holds, or more sequences than capacity). */
int64_t skbref_driver_batch(struct skbref_driver *d, const unsigned char *in, size_t size, uint64_t *digests,
                            uint32_t capacity, const char **error);
/* The same batch, each sequence's records compared as they are taken with the records expected of
 * it, expected[ranges[2k], ranges[2k + 1]) (both SKBREF_DRIVER_SKIPPED: it must not run, lacking an
 * operation): same[k] is 1 when they are equal throughout. A sequence stops at its first differing
 * record. For the C reference in process, where the records need no digest to travel. */
#define SKBREF_DRIVER_SKIPPED 0xFFFFFFFFFFFFFFFFull
int64_t skbref_driver_check(struct skbref_driver *d, const unsigned char *in, size_t size, const unsigned char *expected,
                            size_t expected_size, const uint64_t *ranges, uint32_t capacity, unsigned char *same,
                            const char **error);
/* The number of sequences a batch holds (its first u32), 0 when it is shorter than that. */
uint32_t skbref_driver_batch_count(const unsigned char *in, size_t size);

#endif /* SKBREF_DRIVER_H */
