/*
 * worker.c: the C reference built for i386 (-m32), driven by skbdiff over stdin/stdout.
 *
 * The kernel's sk_buff_data_t is a real 32-bit pointer only in a 32-bit process, so `--arch i386`
 * runs the very CReference sources the x86_64 side links in, here, with the compiler's own i386
 * sizeofs and its data arena at 0xC0000000 like the Swift model's (Specs/snapshot.md, "The i386 C
 * reference"). It serves one request at a time (worker_io.h); a malformed request ends it with
 * status 2 and a line on stderr.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CSKBuff.h"
#include "worker_io.h"

static void die(const char *message)
{
    worker_write(2, "skbdiff worker: ", 16);
    worker_write(2, message, strlen(message));
    worker_write(2, "\n", 1);
    worker_exit(2);
}

/* ---- Input: buffered (a request and what follows it usually arrive in one read); end of input
 * ends the worker. in[0, in_size) is the current request's payload once `next_request` returns. ---- */

static unsigned char *buf;
static size_t buf_capacity, buf_start, buf_end;

/* At least n bytes buffered from buf_start on. */
static void fill(size_t n)
{
    if (buf_end - buf_start >= n)
        return;
    if (buf_start + n > buf_capacity) {
        memmove(buf, buf + buf_start, buf_end - buf_start);
        buf_end -= buf_start;
        buf_start = 0;
        if (n > buf_capacity) {
            size_t capacity = buf_capacity ? buf_capacity : 65536;
            while (capacity < n)
                capacity *= 2;
            buf = realloc(buf, capacity);
            if (!buf)
                die("out of memory");
            buf_capacity = capacity;
        }
    }
    while (buf_end - buf_start < n) {
        long r = worker_read(0, buf + buf_end, buf_capacity - buf_end);
        if (r == 0)
            worker_exit(0);
        if (r < 0) {
            if (r == -4) /* EINTR */
                continue;
            die("cannot read its input");
        }
        buf_end += (size_t)r;
    }
}

static unsigned char *in;
static size_t in_size, in_pos;

/* The next request's header; its payload becomes in[0, size). */
static struct skbref_worker_header next_request(void)
{
    struct skbref_worker_header h;
    fill(sizeof(h));
    memcpy(&h, buf + buf_start, sizeof(h));
    if (h.size > ((uint32_t)64 << 20))
        die("a request longer than 64 MiB");
    fill(sizeof(h) + h.size);
    in = buf + buf_start + sizeof(h);
    in_size = h.size;
    in_pos = 0;
    buf_start += sizeof(h) + h.size;
    return h;
}

static void *take(size_t n)
{
    if (n > in_size - in_pos)
        die("a request is shorter than its contents");
    void *p = in + in_pos;
    in_pos += n;
    return p;
}

static uint32_t take_u32(void)
{
    uint32_t v;
    memcpy(&v, take(4), 4);
    return v;
}

static int32_t take_i32(void) { return (int32_t)take_u32(); }

/* ---- Output: one buffer per reply, written whole. ---- */

static unsigned char *out;
static size_t out_size, out_capacity;

static void *put(size_t n)
{
    if (out_size + n > out_capacity) {
        size_t capacity = out_capacity ? out_capacity : 4096;
        while (capacity < out_size + n)
            capacity *= 2;
        out = realloc(out, capacity);
        if (!out)
            die("out of memory");
        out_capacity = capacity;
    }
    void *p = out + out_size;
    out_size += n;
    return p;
}

static void put_u32(uint32_t v) { memcpy(put(4), &v, 4); }

static void begin_reply(uint32_t tag)
{
    out_size = 0;
    struct skbref_worker_header h = {tag, 0};
    memcpy(put(sizeof(h)), &h, sizeof(h));
}

static void send_reply(void)
{
    uint32_t size = (uint32_t)(out_size - sizeof(struct skbref_worker_header));
    memcpy(out + 4, &size, 4);
    size_t done = 0;
    while (done < out_size) {
        long r = worker_write(1, out + done, out_size - done);
        if (r == -4)
            continue;
        if (r <= 0)
            worker_exit(0); /* skbdiff went away */
        done += (size_t)r;
    }
}

/* ---- The world, the variant and the pool. ---- */

static struct skbref_world *world;
static const struct skbref_variant *variant;
static void **handles;
static unsigned char *frozen;
static size_t count, capacity;
static int died; /* a call of this sequence froze something */

static void append(void *handle)
{
    if (count == capacity) {
        capacity = capacity ? 2 * capacity : 64;
        handles = realloc(handles, capacity * sizeof(*handles));
        frozen = realloc(frozen, capacity);
        if (!handles || !frozen)
            die("out of memory");
    }
    handles[count] = handle;
    frozen[count] = 0;
    count++;
}

static void *runnable(int32_t r)
{
    return r >= 0 && (size_t)r < count && !frozen[r] ? handles[r] : NULL;
}

/* Run one call as the Swift side's CImplementation does, pool rules included. */
static struct skbref_worker_outcome run(const struct skbref_worker_call *c)
{
    struct skbref_worker_outcome o = {0, 0, 0, 0, 0};
    void *target = NULL;
    if (c->target >= 0) {
        target = runnable(c->target);
        if (!target) {
            if (c->effect == WORKER_EFFECT_PRODUCES)
                append(NULL);
            skbref_world_cancel_injected_failure(world);
            return o;
        }
    }
    struct skbref_call call = {c->op, c->pattern, target, {c->arg[0], c->arg[1]}};
    struct skbref_result r;
    memset(&r, 0, sizeof(r));
    variant->apply(world, &call, &r);
    o.ran = 1;
    o.kind = r.kind;
    o.value = r.value;
    o.skb = (uint32_t)(uintptr_t)r.skb;
    o.consumed = r.consumed;
    if (r.kind >= SKBREF_PANIC_OVER) {
        died = 1;
        if (target)
            for (size_t i = 0; i < count; i++)
                if (handles[i] == target)
                    frozen[i] = 1;
        if (c->effect == WORKER_EFFECT_PRODUCES)
            append(NULL);
        return o;
    }
    switch (c->effect) {
    case WORKER_EFFECT_PRODUCES: append(r.skb); break;
    case WORKER_EFFECT_CONSUMES: handles[c->target] = NULL; break;
    case WORKER_EFFECT_CONSUMES_ON_FAILURE: if (r.consumed) handles[c->target] = NULL; break;
    case WORKER_EFFECT_REPLACES: handles[c->target] = r.skb; break;
    default: break;
    }
    return o;
}

static void put_state(int32_t r)
{
    struct skbref_worker_state *s = put(sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->reference = r;
    if (r >= 0 && (size_t)r < count && handles[r]) {
        s->present = 1;
        s->frozen = frozen[r];
        variant->state(world, handles[r], (struct skbref_state *)s->state);
    }
}

static void put_snapshot(void)
{
    uint32_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += handles[i] != NULL;
    put_u32(n);
    for (size_t i = 0; i < count; i++)
        if (handles[i])
            put_state((int32_t)i);
}

static void reset(void)
{
    skbref_world_reset(world);
    count = 0;
    died = 0;
}

static void need_world(void)
{
    if (!world)
        die("a request came before OPEN");
}

static void put_fields(const struct skbref_field *f, uint32_t n)
{
    put_u32(n);
    for (uint32_t i = 0; i < n; i++) {
        put_u32(f[i].offset);
        put_u32(f[i].size);
        put_u32(f[i].bit_offset);
        put_u32(f[i].bit_width);
        uint32_t len = (uint32_t)strlen(f[i].name);
        put_u32(len);
        memcpy(put(len), f[i].name, len);
    }
}

static void hello(void)
{
    put_u32(SKBREF_WORKER_VERSION);
    put_u32((uint32_t)sizeof(void *));
    put_u32(6);
    for (int profile = 0; profile < 3; profile++)
        for (int offset = 0; offset < 2; offset++) {
            const struct skbref_variant *v = skbref_variant_for(offset, profile);
            put_u32((uint32_t)v->uses_offset);
            put_u32((uint32_t)v->profile);
            put_u32(v->sizeof_sk_buff);
            put_u32(v->sizeof_skb_shared_info);
            put_u32(v->sizeof_sk_buff_data_t);
            put_u32(v->alignof_sk_buff);
            put_u32((uint32_t)_Alignof(struct skb_shared_info));
            put_fields(v->sk_buff_fields, v->sk_buff_field_count);
            put_fields(v->shinfo_fields, v->shinfo_field_count);
        }
}

/* A sequence that calls an operation the variant lacks (a kernel tree's: 2.6.24 has no
 * alloc_skb_from_cache) is not run: its input is skipped, and 1 is returned. */
static int lacks_an_operation(void)
{
    if (!variant->supports)
        return 0;
    size_t start = in_pos;
    uint32_t calls = take_u32();
    take_u32();
    int lacking = 0;
    for (uint32_t k = 0; k < calls; k++) {
        struct skbref_worker_call c;
        memcpy(&c, take(sizeof(c)), sizeof(c));
        take_i32();
        uint32_t touched = take_u32();
        if (touched > in_size / 4)
            die("a batch names more references than it holds");
        take((size_t)touched * 4);
        if (!variant->supports(c.op))
            lacking = 1;
    }
    if (!lacking)
        in_pos = start;
    return lacking;
}

static void sequence(void)
{
    reset();
    uint32_t calls = take_u32();
    uint32_t leak_check = take_u32();
    for (uint32_t k = 0; k < calls; k++) {
        struct skbref_worker_call c;
        memcpy(&c, take(sizeof(c)), sizeof(c));
        int32_t before = take_i32();
        uint32_t touched = take_u32();
        if (touched > in_size / 4)
            die("a batch names more references than it holds");
        const unsigned char *refs = take((size_t)touched * 4);
        if (before >= 0)
            put_state(before);
        struct skbref_worker_outcome o = run(&c);
        /* A batch's records carry no sk_buff address or consumed flag: what skbdiff compares them
         * with byte for byte cannot know the worker's addresses, and the pool rules are the worker's. */
        o.skb = 0;
        o.consumed = 0;
        memcpy(put(sizeof(o)), &o, sizeof(o));
        for (uint32_t j = 0; j < touched; j++) {
            int32_t r;
            memcpy(&r, refs + 4 * j, 4);
            put_state(r);
        }
    }
    put_snapshot();
    uint32_t live = 0xFFFFFFFFu;
    if (leak_check && !died) {
        for (size_t i = 0; i < count; i++)
            if (runnable((int32_t)i)) {
                struct skbref_worker_call f = {SKBREF_OP_kfree_skb, 0, (int32_t)i, WORKER_EFFECT_CONSUMES, {0, 0}};
                run(&f);
            }
        live = skbref_world_live_allocations(world);
    }
    put_u32(live);
}

int worker_main(void)
{
    for (;;) {
        struct skbref_worker_header h = next_request();
        switch (h.tag) {
        case WORKER_HELLO:
            begin_reply(h.tag);
            hello();
            send_reply();
            break;
        case WORKER_OPEN: {
            int32_t uses_offset = take_i32(), profile = take_i32();
            uint32_t cache_bytes = take_u32();
            if (world)
                skbref_world_destroy(world);
            world = skbref_world_create(cache_bytes);
            variant = skbref_variant_for(uses_offset, profile);
            count = 0;
            died = 0;
            begin_reply(h.tag);
            put_u32(world && variant ? 1 : 0);
            put_u32(world ? (uint32_t)skbref_world_arena_base(world) : 0);
            send_reply();
            break;
        }
        case WORKER_RESET:
            need_world();
            reset();
            break;
        case WORKER_MUTANT:
            need_world();
            skbref_world_set_mutant(world, take_i32());
            break;
        case WORKER_RUN: {
            need_world();
            struct skbref_worker_call c;
            memcpy(&c, take(sizeof(c)), sizeof(c));
            struct skbref_worker_outcome o = run(&c);
            begin_reply(h.tag);
            memcpy(put(sizeof(o)), &o, sizeof(o));
            send_reply();
            break;
        }
        case WORKER_STATE:
            need_world();
            begin_reply(h.tag);
            put_state(take_i32());
            send_reply();
            break;
        case WORKER_SNAPSHOT:
            need_world();
            begin_reply(h.tag);
            put_snapshot();
            send_reply();
            break;
        case WORKER_LIVE:
            need_world();
            begin_reply(h.tag);
            put_u32(skbref_world_live_allocations(world));
            send_reply();
            break;
        case WORKER_BATCH: {
            need_world();
            uint32_t sequences = take_u32();
            begin_reply(h.tag);
            /* Each sequence's records are replaced by their digest: skbdiff digests the records it
             * expects the same way, and 8 bytes cross the pipe instead of some kilobytes. */
            for (uint32_t k = 0; k < sequences; k++) {
                if (lacks_an_operation()) {
                    uint64_t skipped = SKBREF_WORKER_SKIPPED;
                    memcpy(put(sizeof(skipped)), &skipped, sizeof(skipped));
                    continue;
                }
                size_t start = out_size;
                sequence();
                uint64_t digest = skbref_digest(out + start, out_size - start);
                out_size = start;
                memcpy(put(sizeof(digest)), &digest, sizeof(digest));
            }
            send_reply();
            break;
        }
        default:
            die("an unknown request");
        }
    }
}
