/*
 * driver.c: skbref_driver.h's pool, calls and batches, shared by the workers and the in-process C
 * reference, so that every variant is driven the one way.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CSKBuff.h"
#include "skbref_driver.h"

struct skbref_driver {
    struct skbref_world *world;
    const struct skbref_variant *variant;
    void **handles;
    unsigned char *frozen;
    size_t count, capacity;
    int died;            /* a call of this sequence froze something */
    int out_of_memory;
    unsigned char *out;  /* the records of the sequence a batch is running */
    size_t out_size, out_capacity;
    /* skbref_driver_check: the records the running sequence must take, instead of out, and whether
     * one differed (the sequence then stops). */
    const unsigned char *expected;
    size_t expected_pos, expected_end;
    int differs;
};

struct skbref_driver *skbref_driver_create(void)
{
    struct skbref_driver *d = malloc(sizeof(*d));
    if (d)
        memset(d, 0, sizeof(*d));
    return d;
}

void skbref_driver_destroy(struct skbref_driver *d)
{
    if (!d)
        return;
    free(d->handles);
    free(d->frozen);
    free(d->out);
    free(d);
}

void skbref_driver_open(struct skbref_driver *d, struct skbref_world *world, const struct skbref_variant *variant)
{
    d->world = world;
    d->variant = variant;
    d->count = 0;
    d->died = 0;
}

void skbref_driver_reset(struct skbref_driver *d)
{
    skbref_world_reset(d->world);
    d->count = 0;
    d->died = 0;
}

static void append(struct skbref_driver *d, void *handle)
{
    if (d->count == d->capacity) {
        size_t capacity = d->capacity ? 2 * d->capacity : 64;
        void **handles = realloc(d->handles, capacity * sizeof(*handles));
        if (handles)
            d->handles = handles;
        unsigned char *frozen = realloc(d->frozen, capacity);
        if (frozen)
            d->frozen = frozen;
        if (!handles || !frozen) {
            /* Nothing to number the reference with: the batch reports it (skbref_driver_batch). */
            d->out_of_memory = 1;
            return;
        }
        d->capacity = capacity;
    }
    d->handles[d->count] = handle;
    d->frozen[d->count] = 0;
    d->count++;
}

static void *runnable(const struct skbref_driver *d, int32_t r)
{
    return r >= 0 && (size_t)r < d->count && !d->frozen[r] ? d->handles[r] : NULL;
}

uint32_t skbref_driver_count(const struct skbref_driver *d) { return (uint32_t)d->count; }

int skbref_driver_holds(const struct skbref_driver *d, int32_t r)
{
    return r >= 0 && (size_t)r < d->count && d->handles[r] != NULL;
}

struct skbref_worker_outcome skbref_driver_run(struct skbref_driver *d, const struct skbref_worker_call *c)
{
    struct skbref_worker_outcome o = {0, 0, 0, 0, 0};
    void *target = NULL;
    if (c->target >= 0) {
        target = runnable(d, c->target);
        if (!target) {
            if (c->effect == WORKER_EFFECT_PRODUCES)
                append(d, NULL);
            /* The call fail_next_alloc was for is not run: the failure is forgotten. */
            skbref_world_cancel_injected_failure(d->world);
            return o;
        }
    }
    struct skbref_call call = {c->op, c->pattern, target, {c->arg[0], c->arg[1]}};
    struct skbref_result r;
    memset(&r, 0, sizeof(r));
    d->variant->apply(d->world, &call, &r);
    o.ran = 1;
    o.kind = r.kind;
    o.value = r.value;
    o.skb = (uint32_t)(uintptr_t)r.skb;
    o.consumed = r.consumed;
    if (r.kind >= SKBREF_PANIC_OVER) {
        /* A BUG, panic or overflow freezes every reference to the target. */
        d->died = 1;
        if (target)
            for (size_t i = 0; i < d->count; i++)
                if (d->handles[i] == target)
                    d->frozen[i] = 1;
        if (c->effect == WORKER_EFFECT_PRODUCES)
            append(d, NULL);
        return o;
    }
    switch (c->effect) {
    case WORKER_EFFECT_PRODUCES: append(d, r.skb); break;
    case WORKER_EFFECT_CONSUMES: d->handles[c->target] = NULL; break;
    case WORKER_EFFECT_CONSUMES_ON_FAILURE: if (r.consumed) d->handles[c->target] = NULL; break;
    case WORKER_EFFECT_REPLACES: d->handles[c->target] = r.skb; break;
    default: break;
    }
    return o;
}

void skbref_driver_state(const struct skbref_driver *d, int32_t r, struct skbref_worker_state *s)
{
    memset(s, 0, sizeof(*s));
    s->reference = r;
    if (skbref_driver_holds(d, r)) {
        s->present = 1;
        s->frozen = d->frozen[r];
        d->variant->state(d->world, d->handles[r], (struct skbref_state *)s->state);
    }
}

/* ---- Batches ---- */

struct reader {
    const unsigned char *in;
    size_t size, pos;
    const char *error;
};

static const void *take(struct reader *r, size_t n)
{
    static const unsigned char zeros[sizeof(struct skbref_worker_call)];
    if (r->error || n > r->size - r->pos) {
        if (!r->error)
            r->error = "a batch is shorter than its contents";
        return zeros; /* n is at most a call's size here */
    }
    const void *p = r->in + r->pos;
    r->pos += n;
    return p;
}

static uint32_t take_u32(struct reader *r)
{
    uint32_t v;
    memcpy(&v, take(r, 4), 4);
    return v;
}

/* Room for n more record bytes (NULL when out of memory). */
static void *put(struct skbref_driver *d, size_t n)
{
    if (d->out_size + n > d->out_capacity) {
        size_t capacity = d->out_capacity ? d->out_capacity : 4096;
        while (capacity < d->out_size + n)
            capacity *= 2;
        unsigned char *out = realloc(d->out, capacity);
        if (!out) {
            d->out_of_memory = 1;
            return NULL;
        }
        d->out = out;
        d->out_capacity = capacity;
    }
    void *p = d->out + d->out_size;
    d->out_size += n;
    return p;
}

/* A record of the running sequence: kept for its digest, or compared with the expected one. */
static void emit(struct skbref_driver *d, const void *p, size_t n)
{
    if (d->expected) {
        if (n > d->expected_end - d->expected_pos || memcmp(d->expected + d->expected_pos, p, n) != 0)
            d->differs = 1;
        else
            d->expected_pos += n;
        return;
    }
    void *q = put(d, n);
    if (q)
        memcpy(q, p, n);
}

static void put_u32(struct skbref_driver *d, uint32_t v) { emit(d, &v, 4); }

static void put_state(struct skbref_driver *d, int32_t r)
{
    struct skbref_worker_state s;
    skbref_driver_state(d, r, &s);
    emit(d, &s, sizeof(s));
}

/* A call's touched references: how many, and where they lie (NULL when the batch is bad). */
static const unsigned char *take_references(struct reader *r, uint32_t *touched)
{
    *touched = take_u32(r);
    if (*touched > r->size / 4) {
        if (!r->error)
            r->error = "a batch names more references than it holds";
        *touched = 0;
        return NULL;
    }
    if ((size_t)*touched * 4 > r->size - r->pos) {
        if (!r->error)
            r->error = "a batch is shorter than its contents";
        *touched = 0;
        return NULL;
    }
    const unsigned char *p = r->in + r->pos;
    r->pos += (size_t)*touched * 4;
    return p;
}

/* The sequence at the reader calls an operation the variant lacks: its input is skipped. */
static int lacks_an_operation(struct skbref_driver *d, struct reader *r)
{
    if (!d->variant->supports)
        return 0;
    size_t start = r->pos;
    uint32_t calls = take_u32(r);
    take_u32(r);
    int lacking = 0;
    for (uint32_t k = 0; k < calls && !r->error; k++) {
        struct skbref_worker_call c;
        memcpy(&c, take(r, sizeof(c)), sizeof(c));
        take_u32(r);
        uint32_t touched;
        take_references(r, &touched);
        if (!d->variant->supports(c.op))
            lacking = 1;
    }
    if (!lacking)
        r->pos = start;
    return lacking;
}

/* Run the sequence at the reader: its records into d->out, or compared with d->expected (the
 * sequence stops at the first that differs; the rest of its input is read). */
static void sequence(struct skbref_driver *d, struct reader *r)
{
    skbref_driver_reset(d);
    uint32_t calls = take_u32(r);
    uint32_t leak_check = take_u32(r);
    for (uint32_t k = 0; k < calls && !r->error; k++) {
        struct skbref_worker_call c;
        memcpy(&c, take(r, sizeof(c)), sizeof(c));
        int32_t before = (int32_t)take_u32(r);
        uint32_t touched;
        const unsigned char *refs = take_references(r, &touched);
        if (r->error)
            return;
        if (d->differs)
            continue;
        if (before >= 0)
            put_state(d, before);
        struct skbref_worker_outcome o = skbref_driver_run(d, &c);
        o.skb = 0;
        o.consumed = 0;
        emit(d, &o, sizeof(o));
        for (uint32_t j = 0; j < touched; j++) {
            int32_t ref;
            memcpy(&ref, refs + 4 * j, 4);
            put_state(d, ref);
        }
    }
    if (d->differs)
        return;
    uint32_t n = 0;
    for (size_t i = 0; i < d->count; i++)
        n += d->handles[i] != NULL;
    put_u32(d, n);
    for (size_t i = 0; i < d->count; i++)
        if (d->handles[i])
            put_state(d, (int32_t)i);
    uint32_t live = 0xFFFFFFFFu;
    if (leak_check && !d->died) {
        for (size_t i = 0; i < d->count; i++)
            if (runnable(d, (int32_t)i)) {
                struct skbref_worker_call f = {SKBREF_OP_kfree_skb, 0, (int32_t)i, WORKER_EFFECT_CONSUMES, {0, 0}};
                skbref_driver_run(d, &f);
            }
        live = skbref_world_live_allocations(d->world);
    }
    put_u32(d, live);
}

uint32_t skbref_driver_batch_count(const unsigned char *in, size_t size)
{
    uint32_t n = 0;
    if (size >= 4)
        memcpy(&n, in, 4);
    return n;
}

int64_t skbref_driver_batch(struct skbref_driver *d, const unsigned char *in, size_t size, uint64_t *digests,
                            uint32_t capacity, const char **error)
{
    struct reader r = {in, size, 0, NULL};
    uint32_t sequences = take_u32(&r);
    if (!r.error && sequences > capacity)
        r.error = "a batch holds more sequences than its reply has room for";
    d->out_of_memory = 0;
    d->expected = NULL;
    for (uint32_t k = 0; k < sequences && !r.error; k++) {
        if (lacks_an_operation(d, &r)) {
            digests[k] = SKBREF_WORKER_SKIPPED;
            continue;
        }
        d->out_size = 0;
        sequence(d, &r);
        digests[k] = skbref_digest(d->out, d->out_size);
    }
    if (!r.error && d->out_of_memory)
        r.error = "out of memory";
    if (r.error) {
        *error = r.error;
        return -1;
    }
    return sequences;
}

int64_t skbref_driver_check(struct skbref_driver *d, const unsigned char *in, size_t size, const unsigned char *expected,
                            size_t expected_size, const uint64_t *ranges, uint32_t capacity, unsigned char *same,
                            const char **error)
{
    struct reader r = {in, size, 0, NULL};
    uint32_t sequences = take_u32(&r);
    if (!r.error && sequences > capacity)
        r.error = "a batch holds more sequences than its reply has room for";
    d->out_of_memory = 0;
    for (uint32_t k = 0; k < sequences && !r.error; k++) {
        uint64_t start = ranges[2 * k], end = ranges[2 * k + 1];
        int skip = start == SKBREF_DRIVER_SKIPPED;
        if (lacks_an_operation(d, &r)) {
            same[k] = skip;
            continue;
        }
        if (!skip && (start > end || end > expected_size)) {
            r.error = "an expected range lies outside the expected records";
            break;
        }
        /* A sequence expected to be skipped, and run, differs: its records are compared with none. */
        d->expected = expected + (skip ? 0 : start);
        d->expected_pos = 0;
        d->expected_end = skip ? 0 : (size_t)(end - start);
        d->differs = 0;
        sequence(d, &r);
        same[k] = !d->differs && d->expected_pos == d->expected_end;
    }
    d->expected = NULL;
    if (!r.error && d->out_of_memory)
        r.error = "out of memory";
    if (r.error) {
        *error = r.error;
        return -1;
    }
    return sequences;
}
