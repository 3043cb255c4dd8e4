/*
 * skbref_access.h: checked memory access (Specs/snapshot.md, "Bytes"), shared by the C reference's
 * helpers and the harness of every variant (the kernel's too). Needs skb_end_pointer, skbref_overflow
 * and the world of the running call (SKBREF_WORLD_NOW).
 */
/* ------------------------------------------------------------------------------------------------
 * Checked memory access (Specs/snapshot.md, "Bytes").
 * ---------------------------------------------------------------------------------------------- */

/* Where an access may land: [lo, hi) inside the tracked allocation that starts at base. */
struct skb_window {
    uintptr_t base;
    uintptr_t lo;
    uintptr_t hi;
};

/* The packet bytes of skb's buffer: [head, head + end) of the allocation at head. */
static struct skb_window skb_linear_window(const struct sk_buff *skb)
{
    struct skb_window w = {(uintptr_t)skb->head, (uintptr_t)skb->head, (uintptr_t)skb_end_pointer(skb)};
    return w;
}

/* Overflow unless [p, p + n) lies in the window and in its allocation; n == 0 is always allowed.
 * Then the bytes are made real (skbref_world_touch): `writes` when the access overwrites them all. */
static void skb_access(struct skb_window w, const void *p, size_t n, int writes)
{
    uintptr_t a = (uintptr_t)p;
    if (n == 0)
        return;
    if (a < w.lo || a > w.hi || n > w.hi - a)
        skbref_overflow();
    struct skbref_block *b = skbref_world_block(skbref_current, w.base);
    uintptr_t start = b ? (uintptr_t)b->p : 0;
    if (!b || a < start || a - start > b->size || n > b->size - (a - start))
        skbref_overflow();
    skbref_world_touch(b, a - start, n, writes);
}

static void skb_checked_memcpy(struct skb_window to_w, void *to, struct skb_window from_w, const void *from,
                               size_t n)
{
    skb_access(from_w, from, n, 0);
    skb_access(to_w, to, n, 1);
    if (n) {
        memcpy(to, from, n);
        skbref_world_written(skbref_current, to_w.base);
    }
}

static void skb_checked_memset(struct skb_window w, void *p, int c, size_t n)
{
    skb_access(w, p, n, 1);
    if (n) {
        memset(p, c, n);
        skbref_world_written(skbref_current, w.base);
    }
}

