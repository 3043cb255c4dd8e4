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

/* ---- The world, the variant and the pool: skbref_driver.h's. ---- */

static struct skbref_world *world;
static struct skbref_driver *driver;

static void put_state(int32_t r) { skbref_driver_state(driver, r, put(sizeof(struct skbref_worker_state))); }

static void put_snapshot(void)
{
    uint32_t n = 0, count = skbref_driver_count(driver);
    for (uint32_t i = 0; i < count; i++)
        n += skbref_driver_holds(driver, (int32_t)i) ? 1 : 0;
    put_u32(n);
    for (uint32_t i = 0; i < count; i++)
        if (skbref_driver_holds(driver, (int32_t)i))
            put_state((int32_t)i);
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
            const struct skbref_variant *variant = skbref_variant_for(uses_offset, profile);
            if (!driver && !(driver = skbref_driver_create()))
                die("out of memory");
            skbref_driver_open(driver, world, variant);
            begin_reply(h.tag);
            put_u32(world && variant ? 1 : 0);
            put_u32(world ? (uint32_t)skbref_world_arena_base(world) : 0);
            send_reply();
            break;
        }
        case WORKER_RESET:
            need_world();
            skbref_driver_reset(driver);
            break;
        case WORKER_MUTANT:
            need_world();
            skbref_world_set_mutant(world, take_i32());
            break;
        case WORKER_RUN: {
            need_world();
            struct skbref_worker_call c;
            memcpy(&c, take(sizeof(c)), sizeof(c));
            struct skbref_worker_outcome o = skbref_driver_run(driver, &c);
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
            /* Each sequence's records are replaced by their digest: skbdiff digests the records it
             * expects the same way, and 8 bytes cross the pipe instead of some kilobytes. */
            uint32_t sequences = skbref_driver_batch_count(in, in_size);
            if (sequences > in_size / 8)
                die("a batch holds more sequences than it has room for");
            begin_reply(h.tag);
            uint64_t *digests = put((size_t)sequences * 8);
            const char *error = NULL;
            if (skbref_driver_batch(driver, in, in_size, digests, sequences, &error) < 0)
                die(error);
            send_reply();
            break;
        }
        default:
            die("an unknown request");
        }
    }
}
