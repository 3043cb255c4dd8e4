/*
 * skbref_harness.h: what a variant exports, around the helpers it is compiled with: apply (one call,
 * BUG/panic/overflow caught), state (the snapshot of Specs/snapshot.md), frags, the field tables and
 * the descriptor. Included at the end of a variant translation unit: by skbuff_impl.h after the C
 * reference's helpers, and by CReference/kernel/kernel_variant.c after a kernel tree's own helpers
 * (SKBREF_KERNEL; Specs/kernel.md). It calls the helpers by their kernel names only.
 */
/* ------------------------------------------------------------------------------------------------
 * The harness: apply, state, field tables, the descriptor.
 * ---------------------------------------------------------------------------------------------- */

/* Offset of tail from head: the u32 under OFF, a signed pointer difference under PTR. */
/* skb_tail_pointer(skb) - head and skb_end_pointer(skb) - head, as the snapshot has them
 * (Specs/snapshot.md): under OFF on x86_64 the unsigned int itself; with 32-bit pointers (the i386
 * worker) head + offset wraps, so the difference is signed there. */
static int64_t skbref_tail_offset(const struct sk_buff *skb)
{
    return (int64_t)SKB_PTR_DIFF(skb_tail_pointer(skb), skb->head);
}

static int64_t skbref_end_offset(const struct sk_buff *skb)
{
    return (int64_t)SKB_PTR_DIFF(skb_end_pointer(skb), skb->head);
}

/* A returned pointer as its offset from the target's head. */
static void skbref_pointer_result(struct skbref_result *r, const struct sk_buff *skb, const unsigned char *p)
{
    if (!p)
        r->kind = SKBREF_NULL;
    else
        r->value = (int64_t)SKB_PTR_DIFF(p, skb->head);
}

static void skbref_skb_result(struct skbref_result *r, struct sk_buff *n)
{
    r->skb = n;
    if (!n)
        r->kind = SKBREF_NULL;
}

/* skb_put/__skb_put wrote pattern bytes at the old tail, unless tail wrapped backwards (quirk 3). */
static void skbref_put_pattern(struct sk_buff *skb, unsigned char *old_tail, int64_t old_tail_offset,
                               unsigned int len, uint32_t pattern)
{
    if (skbref_tail_offset(skb) < old_tail_offset)
        return;
    skb_access(skb_linear_window(skb), old_tail, len, 1);
    skbref_fill_pattern(old_tail, len, pattern);
    skbref_world_written(skbref_current, (uintptr_t)skb->head);
}

/* skb_push/__skb_push wrote pattern bytes at the new data. */
static void skbref_push_pattern(struct sk_buff *skb, unsigned int len, uint32_t pattern)
{
    skb_access(skb_linear_window(skb), skb->data, len, 1);
    skbref_fill_pattern(skb->data, len, pattern);
    skbref_world_written(skbref_current, (uintptr_t)skb->head);
}

/* A check of the harness's own (not the kernel's): the call ends as a BUG of that number. */
#define SKBREF_HARNESS_CHECK(condition, which)                                                       \
    do {                                                                                             \
        if (condition)                                                                               \
            skbref_world_fail(skbref_current, SKBREF_BUG, (which));                                  \
    } while (0)

/* Runs one call; BUG/panic/overflow leave through skbref_world_fail. */
static void skbref_run(const struct skbref_call *call, struct skbref_result *r)
{
    struct sk_buff *skb = call->skb;
    unsigned int u0 = (unsigned int)call->arg[0], u1 = (unsigned int)call->arg[1];
    int i0 = (int)call->arg[0], i1 = (int)call->arg[1];

    /* Harness checks: every operation after the allocators needs a target of this world (kfree_skb
     * takes NULL, as in the kernel). */
    if (call->op > SKBREF_OP_alloc_skb_from_cache && call->op != SKBREF_OP_fail_next_alloc) {
        SKBREF_HARNESS_CHECK(!skb && call->op != SKBREF_OP_kfree_skb, SKBREF_BUG_BAD_FREE);
        SKBREF_HARNESS_CHECK(skb && !skbref_world_owns(skbref_current, (uintptr_t)skb, sizeof(*skb)), SKBREF_BUG_BAD_FREE);
    }

    switch ((enum skbref_op)call->op) {
    case SKBREF_OP_alloc_skb:
        skbref_skb_result(r, alloc_skb(u0, GFP_ATOMIC));
        break;
    case SKBREF_OP_alloc_skb_fclone:
        skbref_skb_result(r, alloc_skb_fclone(u0, GFP_ATOMIC));
        break;
    case SKBREF_OP_dev_alloc_skb:
        skbref_skb_result(r, dev_alloc_skb(u0));
        break;
#ifndef SKBREF_KERNEL /* 2.6.24 has no alloc_skb_from_cache: never sent to a kernel variant */
    case SKBREF_OP_alloc_skb_from_cache: {
        /* kmem_cache_create of an object size of 0 or above KMALLOC_MAX_SIZE fails (Specs/snapshot.md). */
        struct kmem_cache cache = {"skbref_from_cache", u0, 1};
        skbref_skb_result(r, u0 == 0 || u0 > KMALLOC_MAX_SIZE ? NULL : alloc_skb_from_cache(&cache, u1, GFP_ATOMIC));
        break;
    }
#endif
    case SKBREF_OP_skb_reserve:
        skb_reserve(skb, i0);
        break;
    case SKBREF_OP_skb_put:
    case SKBREF_OP___skb_put: {
        int64_t old_tail_offset = skbref_tail_offset(skb);
        unsigned char *p = call->op == SKBREF_OP_skb_put ? skb_put(skb, u0) : __skb_put(skb, u0);
        skbref_put_pattern(skb, p, old_tail_offset, u0, call->pattern);
        skbref_pointer_result(r, skb, p);
        break;
    }
    case SKBREF_OP_skb_push:
    case SKBREF_OP___skb_push: {
        unsigned char *p = call->op == SKBREF_OP_skb_push ? skb_push(skb, u0) : __skb_push(skb, u0);
        skbref_push_pattern(skb, u0, call->pattern);
        skbref_pointer_result(r, skb, p);
        break;
    }
    case SKBREF_OP_skb_pull:
        skbref_pointer_result(r, skb, skb_pull(skb, u0));
        break;
    case SKBREF_OP___skb_pull:
        skbref_pointer_result(r, skb, __skb_pull(skb, u0));
        break;
    case SKBREF_OP_skb_trim:
        skb_trim(skb, u0);
        break;
    case SKBREF_OP___skb_trim:
        __skb_trim(skb, u0);
        break;
    case SKBREF_OP_skb_headroom:
        r->value = skb_headroom(skb); /* unsigned int: zero-extended */
        break;
    case SKBREF_OP_skb_tailroom:
        r->value = skb_tailroom(skb);
        break;
    case SKBREF_OP_skb_clone:
        skbref_skb_result(r, skb_clone(skb, GFP_ATOMIC));
        break;
    case SKBREF_OP_skb_copy:
        skbref_skb_result(r, skb_copy(skb, GFP_ATOMIC));
        break;
    case SKBREF_OP_pskb_copy:
        skbref_skb_result(r, pskb_copy(skb, GFP_ATOMIC));
        break;
    case SKBREF_OP_pskb_expand_head:
        r->value = pskb_expand_head(skb, i0, i1, GFP_ATOMIC);
        break;
    case SKBREF_OP_skb_realloc_headroom:
        skbref_skb_result(r, skb_realloc_headroom(skb, u0));
        break;
    case SKBREF_OP_skb_copy_expand:
        skbref_skb_result(r, skb_copy_expand(skb, i0, i1, GFP_ATOMIC));
        break;
    case SKBREF_OP_skb_cow:
        r->value = skb_cow(skb, u0);
        break;
    case SKBREF_OP_skb_cow_head:
        r->value = skb_cow_head(skb, u0);
        break;
    case SKBREF_OP_skb_pad:
    case SKBREF_OP_skb_padto: {
        int err = call->op == SKBREF_OP_skb_pad ? skb_pad(skb, i0) : skb_padto(skb, u0);
        r->value = err;
        r->consumed = err != 0 && !MUTANT(pad_failure_keeps); /* the skb was freed */
        break;
    }
    case SKBREF_OP_skb_unshare:
    case SKBREF_OP_skb_share_check: {
        struct sk_buff *n =
            call->op == SKBREF_OP_skb_unshare ? skb_unshare(skb, GFP_ATOMIC) : skb_share_check(skb, GFP_ATOMIC);
        skbref_skb_result(r, n);
        r->consumed = n != skb;
        break;
    }
    case SKBREF_OP_skb_get:
        skbref_skb_result(r, skb_get(skb));
        break;
    case SKBREF_OP_kfree_skb:
        kfree_skb(skb);
        r->consumed = 1;
        break;
    case SKBREF_OP_skb_header_release:
        skb_header_release(skb);
        break;
    case SKBREF_OP_skb_cloned:
        r->value = skb_cloned(skb);
        break;
    case SKBREF_OP_skb_header_cloned:
        r->value = skb_header_cloned(skb);
        break;
    case SKBREF_OP_skb_shared:
        r->value = skb_shared(skb);
        break;
    case SKBREF_OP_skb_reset_mac_header:
        skb_reset_mac_header(skb);
        break;
    case SKBREF_OP_skb_reset_network_header:
        skb_reset_network_header(skb);
        break;
    case SKBREF_OP_skb_reset_transport_header:
        skb_reset_transport_header(skb);
        break;
    case SKBREF_OP_skb_set_mac_header:
        skb_set_mac_header(skb, i0);
        break;
    case SKBREF_OP_skb_set_network_header:
        skb_set_network_header(skb, i0);
        break;
    case SKBREF_OP_skb_set_transport_header:
        skb_set_transport_header(skb, i0);
        break;
    case SKBREF_OP_skb_mac_header_was_set:
        r->value = skb_mac_header_was_set(skb);
        break;
    case SKBREF_OP_skb_reset_tail_pointer:
        skb_reset_tail_pointer(skb);
        break;
    case SKBREF_OP_skb_set_tail_pointer:
        skb_set_tail_pointer(skb, i0);
        break;
    case SKBREF_OP_skb_tail_pointer:
        skbref_pointer_result(r, skb, skb_tail_pointer(skb));
        break;
    case SKBREF_OP_skb_end_pointer:
        skbref_pointer_result(r, skb, skb_end_pointer(skb));
        break;
    case SKBREF_OP_skb_is_nonlinear:
        r->value = (int)skb_is_nonlinear(skb); /* the kernel's returns int */
        break;
    case SKBREF_OP_skb_headlen:
        r->value = skb_headlen(skb); /* unsigned int: zero-extended */
        break;
    case SKBREF_OP_skb_pagelen:
        r->value = skb_pagelen(skb);
        break;
    case SKBREF_OP_pskb_may_pull:
        r->value = pskb_may_pull(skb, u0);
        break;
    case SKBREF_OP___pskb_pull_tail:
        skbref_pointer_result(r, skb, __pskb_pull_tail(skb, i0));
        break;
    case SKBREF_OP_pskb_pull:
        skbref_pointer_result(r, skb, pskb_pull(skb, u0));
        break;
    case SKBREF_OP_pskb_trim:
        r->value = pskb_trim(skb, u0);
        break;
    case SKBREF_OP_skb_linearize:
        r->value = skb_linearize(skb);
        break;
    case SKBREF_OP_skb_copy_bits: {
        /* Into a caller's buffer of len bytes (SKBREF_COPY_BITS_MAX when len is negative or larger):
         * the result is the digest of the bytes copied, shifted right by 2 (never negative). */
        size_t size = i1 >= 0 && i1 <= SKBREF_COPY_BITS_MAX ? (size_t)i1 : SKBREF_COPY_BITS_MAX;
        /* only the bytes copied are read, and only when all len of them were */
        unsigned char *buf = skbref_world_alloc_unzeroed(skbref_current, size);
        SKBREF_HARNESS_CHECK(!buf, SKBREF_BUG_BAD_FREE); /* harness: out of memory */
#ifdef SKBREF_KERNEL
        int err = skb_copy_bits(skb, i0, buf, i1); /* the stand-in checks its copies against buf's block */
#else
        struct skb_window w = {(uintptr_t)buf, (uintptr_t)buf, (uintptr_t)buf + size};
        int err = skb_copy_bits(skb, i0, buf, i1, w);
#endif
        r->value = err ? err : (int64_t)(skbref_digest(buf, (size_t)i1) >> 2);
        skbref_world_free(skbref_current, buf);
        break;
    }
    case SKBREF_OP_add_frag:
        r->value = skbref_add_frag(skb, u0, u1, call->pattern + 1); /* the page is named by the call */
        break;
    case SKBREF_OP_set_csum:
        skb->csum = (__wsum)u0;
        skb->ip_summed = u1 & 3; /* a 2-bit field */
        break;
    case SKBREF_OP_set_mac_len:
        skb->mac_len = (__u16)u0;
        break;
    case SKBREF_OP_set_gso: {
        struct skb_shared_info *si = skb_shinfo(skb);
        si->gso_size = (unsigned short)u0;
        si->gso_segs = (unsigned short)u1;
        break;
    }
    case SKBREF_OP_set_gso_type:
        skb_shinfo(skb)->gso_type = (unsigned short)u0;
        break;
    case SKBREF_OP_set_ip6_frag_id:
        skb_shinfo(skb)->ip6_frag_id = (__be32)u0;
        break;
    case SKBREF_OP_fail_next_alloc:
        skbref_current->fail_countdown = u0;
        break;
    case SKBREF_OP_COUNT:
    default:
        SKBREF_HARNESS_CHECK(1, SKBREF_BUG_BAD_FREE); /* harness: no such operation */
    }
}

/* The variant's apply: runs the call in w; a BUG, panic or overflow ends it with result.skb = NULL. */
static void skbref_apply(struct skbref_world *w, const struct skbref_call *call, struct skbref_result *result)
{
    struct skbref_world *volatile outer = skbref_current;

    memset(result, 0, sizeof(*result));
    skbref_current = w;
    if (setjmp(w->bug_jump) == 0) {
#ifdef SKBREF_KERNEL_BEFORE_CALL
        SKBREF_KERNEL_BEFORE_CALL(call);
#endif
        skbref_run(call, result);
    } else {
        result->kind = w->fail_kind;
        result->value = w->fail_value;
        result->skb = NULL;
        result->consumed = 0;
    }
    /* An injected failure lasts for the one call after fail_next_alloc. */
    if (call->op != SKBREF_OP_fail_next_alloc)
        w->fail_countdown = 0;
    skbref_current = outer;
}

/* A header pointer classified per Specs/snapshot.md: offset inside [head, end + shinfo), unset or wild. */
static void skbref_header_state(const struct sk_buff *skb, const unsigned char *p, int64_t end_offset,
                                int64_t *offset, uint8_t *kind)
{
    uintptr_t rel = (uintptr_t)p - (uintptr_t)skb->head;
    int64_t limit = end_offset + (int64_t)sizeof(struct skb_shared_info);

    *offset = 0;
#ifndef NET_SKBUFF_DATA_USES_OFFSET
    if (!p) {
        *kind = SKBREF_HEADER_UNSET;
        return;
    }
#endif
    if (limit > 0 && rel < (uint64_t)limit) {
        *kind = SKBREF_HEADER_OFFSET;
        *offset = (int64_t)rel;
    } else {
        *kind = SKBREF_HEADER_WILD;
    }
}

/* The fields of the skb_shared_info at end that the snapshot holds (dataref up to ip6_frag_id), when
 * it lies inside the block; else all 0. */
static void skbref_shinfo_state(struct skbref_block *buf, int64_t end, struct skbref_state *out)
{
    out->dataref = 0;
    out->nr_frags = out->gso_size = out->gso_segs = out->gso_type = 0;
    out->ip6_frag_id = 0;
    if (!buf || end < 0 || (uint64_t)end > buf->size || sizeof(struct skb_shared_info) > buf->size - (uint64_t)end)
        return;
    size_t n = offsetof(struct skb_shared_info, frag_list);
    skbref_world_touch(buf, (size_t)end, n, 0);
    struct skb_shared_info si;
    memcpy(&si, buf->p + end, n);
    out->dataref = (uint32_t)atomic_read(&si.dataref);
    out->nr_frags = si.nr_frags;
    out->gso_size = si.gso_size;
    out->gso_segs = si.gso_segs;
    out->gso_type = si.gso_type;
    out->ip6_frag_id = si.ip6_frag_id;
}

/*
 * The frags in the snapshot (Specs/paged.md), once nr_frags is known: frags_digest over nr_frags
 * records {page id, page_offset, size, page count} (a page no longer live: id and count ~0), 0 when
 * there are none; packet_digest over the len bytes skb_copy_bits(skb, 0, buf, len) copies, when the skb
 * is nonlinear and that copy stays inside the head and the live pages, else 0.
 */
/* The first n frags of the shared info at end in buf (inside it), their pages when live, and their
 * records as the frags digest takes them. */
static void skbref_frag_records(struct skbref_world *w, struct skbref_block *buf, int64_t end, size_t n,
                                skb_frag_t *frags, struct page **pages, struct skbref_frag_state *rec)
{
    size_t at = (size_t)end + offsetof(struct skb_shared_info, frags);
    skbref_world_touch(buf, at, n * sizeof(skb_frag_t), 0);
    memcpy(frags, buf->p + at, n * sizeof(skb_frag_t));
    for (size_t i = 0; i < n; i++) {
        const struct skbref_block *b = skbref_world_block(w, (uintptr_t)frags[i].page);
        pages[i] = b && b->size == sizeof(struct page) ? frags[i].page : NULL;
        rec[i].page = pages[i] ? pages[i]->id : 0xFFFFFFFFu;
        rec[i].page_offset = frags[i].page_offset;
        rec[i].size = frags[i].size;
        rec[i].count = pages[i] ? (uint32_t)pages[i]->count : 0xFFFFFFFFu;
    }
}

static void skbref_frags_state(struct skbref_world *w, const struct sk_buff *skb, struct skbref_block *buf,
                               struct skbref_state *out)
{
    struct skbref_frag_state rec[MAX_SKB_FRAGS];
    skb_frag_t frags[MAX_SKB_FRAGS];
    size_t n = out->nr_frags < MAX_SKB_FRAGS ? out->nr_frags : MAX_SKB_FRAGS;
    struct page *pages[MAX_SKB_FRAGS];

    _Static_assert(sizeof(struct skbref_frag_state) == 16, "a frag record is four u32");
    out->frags_digest = 0;
    out->packet_digest = 0;
    if (n) {
        skbref_frag_records(w, buf, out->end, n, frags, pages, rec);
        out->frags_digest = skbref_digest((const unsigned char *)rec, sizeof(rec[0]) * n);
    }
    if (!skb->data_len || skb->data_len > skb->len)
        return;
    size_t headlen = skb->len - skb->data_len;
    if (headlen && (out->data < 0 || (uint64_t)out->data + headlen > (uint64_t)out->end || !buf ||
                    (uint64_t)out->end > buf->size))
        return;
    if (w->scratch_size < skb->len) {
        unsigned char *p = realloc(w->scratch, skb->len);
        if (!p)
            return;
        w->scratch = p;
        w->scratch_size = skb->len;
    }
    if (headlen) {
        skbref_world_touch(buf, (size_t)out->data, headlen, 0);
        memcpy(w->scratch, buf->p + out->data, headlen);
    }
    size_t copied = headlen;
    for (size_t i = 0; i < n && copied < skb->len; i++) {
        size_t take = skb->len - copied < frags[i].size ? skb->len - copied : frags[i].size;
        if (!take)
            continue;
        if (!pages[i] || frags[i].page_offset > PAGE_SIZE || take > PAGE_SIZE - frags[i].page_offset)
            return;
        memcpy(w->scratch + copied, pages[i]->bytes + frags[i].page_offset, take);
        copied += take;
    }
    if (copied == skb->len)
        out->packet_digest = skbref_digest(w->scratch, copied);
}

/* The shared info a memoised state read is still there, unchanged. */
static int skbref_shinfo_unchanged(struct skbref_block *buf, const struct skbref_state *memo)
{
    struct skbref_state now;
    skbref_shinfo_state(buf, memo->end, &now);
    return now.dataref == memo->dataref && now.nr_frags == memo->nr_frags && now.gso_size == memo->gso_size &&
           now.gso_segs == memo->gso_segs && now.gso_type == memo->gso_type && now.ip6_frag_id == memo->ip6_frag_id;
}

_Static_assert(sizeof(struct sk_buff) <= SKBREF_SKB_MAX, "the state memo holds a whole struct sk_buff");

/* The variant's state: the snapshot of one sk_buff (Specs/snapshot.md); never ends in a BUG. Taken
 * from the memo when nothing it depends on changed since it was last taken. */
static void skbref_state(struct skbref_world *w, const void *p, struct skbref_state *out)
{
    const struct sk_buff *skb = p;
    struct skbref_state_memo *m = &w->memo[((uintptr_t)p >> 6) % SKBREF_STATE_MEMO];
    size_t index = w->nblocks;
#ifdef SKBREF_KERNEL
    /* The kernel's code writes the shared info and frags directly, without the world's stamps: the
     * memo could not tell that they changed, so a kernel variant computes every state afresh. */
    if (0) {
#else
    if (m->skb == p && memcmp(m->raw, skb, sizeof(*skb)) == 0) {
#endif
        /* The block that starts at head is the one it was, if it is still at that index. */
        if (m->frag_epoch != w->frag_epoch) {
            /* a page count or a frag may have changed: compute it again */
        } else if (m->block < w->nblocks && w->blocks[m->block].p == skb->head) {
            struct skbref_block *b = &w->blocks[m->block];
            if (b->version == m->version && skbref_shinfo_unchanged(b, &m->state)) {
                *out = m->state;
                return;
            }
            index = m->block;
        } else if (m->block == SKBREF_NO_BLOCK && m->epoch == w->epoch) {
            *out = m->state;
            return;
        }
    }

    if (index == w->nblocks)
        index = skbref_world_index(w, (uintptr_t)skb->head);
    struct skbref_block *buf = index < w->nblocks ? &w->blocks[index] : NULL;

    memset(out, 0, sizeof(*out));
    out->data = (int64_t)SKB_PTR_DIFF(skb->data, skb->head);
    out->tail = skbref_tail_offset(skb);
    out->end = skbref_end_offset(skb);
    skbref_header_state(skb, skb_mac_header(skb), out->end, &out->header[0], &out->header_kind[0]);
    skbref_header_state(skb, skb_network_header(skb), out->end, &out->header[1], &out->header_kind[1]);
    skbref_header_state(skb, skb_transport_header(skb), out->end, &out->header[2], &out->header_kind[2]);

    /* [data, tail) lies inside [head, end), itself inside the buffer; the block test only guards memory. */
    if (0 <= out->data && out->data <= out->tail && out->tail <= out->end && buf &&
        (uint64_t)out->end <= buf->size) {
        out->digest_valid = 1;
        out->digest = skbref_world_digest(w, skb, buf, out->data, out->tail);
    }
    skbref_shinfo_state(buf, out->end, out);
    skbref_frags_state(w, skb, buf, out);

    out->len = skb->len;
    out->data_len = skb->data_len;
    out->truesize = skb->truesize;
    out->headroom = skb_headroom(skb);
    out->tailroom = skb_tailroom(skb);
    out->users = (uint32_t)atomic_read(&skb->users);
    out->cloned = skb->cloned;
    out->nohdr = skb->nohdr;
    out->fclone = skb->fclone;
    out->ip_summed = skb->ip_summed;
    memcpy(&out->csum, &skb->csum, sizeof(out->csum));
    out->hdr_len = skb->hdr_len;
    out->mac_len = skb->mac_len;

    m->skb = p;
    m->epoch = w->epoch;
    m->frag_epoch = w->frag_epoch;
    m->block = buf ? index : SKBREF_NO_BLOCK;
    m->version = buf ? buf->version : 0;
    m->state = *out;
    memcpy(m->raw, skb, sizeof(*skb));
}

/* The variant's frags: the records of the skb's nr_frags frags, for reports. */
static uint32_t skbref_frags(struct skbref_world *w, const void *p, struct skbref_frag_state *out)
{
    const struct sk_buff *skb = p;
    struct skbref_state st;
    skb_frag_t frags[MAX_SKB_FRAGS];
    struct page *pages[MAX_SKB_FRAGS];

    skbref_state(w, p, &st);
    size_t n = st.nr_frags < MAX_SKB_FRAGS ? st.nr_frags : MAX_SKB_FRAGS;
    size_t index = skbref_world_index(w, (uintptr_t)skb->head);
    if (!n || index == w->nblocks) /* nr_frags is 0 unless the shared info lies in the block at head */
        return 0;
    skbref_frag_records(w, &w->blocks[index], st.end, n, frags, pages, out);
    return (uint32_t)n;
}

/*
 * Field tables, in declaration order. Bit-field positions are constants for a little-endian ABI
 * (allocated from bit 0 of the byte after priority; the static assertions pin those bytes), checked
 * at run time by the test driver against a struct with the field set to all ones.
 */
#define SKBREF_FIELD(T, m) {#m, (uint32_t)offsetof(T, m), (uint32_t)sizeof(((T *)0)->m), (uint32_t)offsetof(T, m) * 8u, 0}
#define SKBREF_BITS_BYTE0 ((uint32_t)offsetof(struct sk_buff, priority) + (uint32_t)sizeof(__u32))
#define SKBREF_BITFIELD(name, byte, bit, width) {name, (byte), 0, (byte) * 8u + (bit), (width)}

_Static_assert(offsetof(struct sk_buff, protocol) == offsetof(struct sk_buff, priority) + sizeof(__u32) + 2,
               "the two bit-field bytes sit between priority and protocol");

static const struct skbref_field skbref_sk_buff_fields[] = {
    SKBREF_FIELD(struct sk_buff, next),
    SKBREF_FIELD(struct sk_buff, prev),
    SKBREF_FIELD(struct sk_buff, sk),
    SKBREF_FIELD(struct sk_buff, tstamp),
    SKBREF_FIELD(struct sk_buff, dev),
    SKBREF_FIELD(struct sk_buff, dst),
    SKBREF_FIELD(struct sk_buff, sp),
    SKBREF_FIELD(struct sk_buff, cb),
    SKBREF_FIELD(struct sk_buff, len),
    SKBREF_FIELD(struct sk_buff, data_len),
    SKBREF_FIELD(struct sk_buff, mac_len),
    SKBREF_FIELD(struct sk_buff, hdr_len),
    SKBREF_FIELD(struct sk_buff, csum),
    SKBREF_FIELD(struct sk_buff, csum_start),
    SKBREF_FIELD(struct sk_buff, csum_offset),
    SKBREF_FIELD(struct sk_buff, priority),
    SKBREF_BITFIELD("local_df", SKBREF_BITS_BYTE0, 0, 1),
    SKBREF_BITFIELD("cloned", SKBREF_BITS_BYTE0, 1, 1),
    SKBREF_BITFIELD("ip_summed", SKBREF_BITS_BYTE0, 2, 2),
    SKBREF_BITFIELD("nohdr", SKBREF_BITS_BYTE0, 4, 1),
    SKBREF_BITFIELD("nfctinfo", SKBREF_BITS_BYTE0, 5, 3),
    SKBREF_BITFIELD("pkt_type", SKBREF_BITS_BYTE0 + 1, 0, 3),
    SKBREF_BITFIELD("fclone", SKBREF_BITS_BYTE0 + 1, 3, 2),
    SKBREF_BITFIELD("ipvs_property", SKBREF_BITS_BYTE0 + 1, 5, 1),
    SKBREF_BITFIELD("nf_trace", SKBREF_BITS_BYTE0 + 1, 6, 1),
    SKBREF_FIELD(struct sk_buff, protocol),
    SKBREF_FIELD(struct sk_buff, destructor),
#if defined(CONFIG_NF_CONNTRACK) || defined(CONFIG_NF_CONNTRACK_MODULE)
    SKBREF_FIELD(struct sk_buff, nfct),
    SKBREF_FIELD(struct sk_buff, nfct_reasm),
#endif
#ifdef CONFIG_BRIDGE_NETFILTER
    SKBREF_FIELD(struct sk_buff, nf_bridge),
#endif
    SKBREF_FIELD(struct sk_buff, iif),
#ifdef CONFIG_NETDEVICES_MULTIQUEUE
    SKBREF_FIELD(struct sk_buff, queue_mapping),
#endif
#ifdef CONFIG_NET_SCHED
    SKBREF_FIELD(struct sk_buff, tc_index),
#ifdef CONFIG_NET_CLS_ACT
    SKBREF_FIELD(struct sk_buff, tc_verd),
#endif
#endif
#ifdef CONFIG_NET_DMA
    SKBREF_FIELD(struct sk_buff, dma_cookie),
#endif
#ifdef CONFIG_NETWORK_SECMARK
    SKBREF_FIELD(struct sk_buff, secmark),
#endif
    SKBREF_FIELD(struct sk_buff, mark),
    SKBREF_FIELD(struct sk_buff, transport_header),
    SKBREF_FIELD(struct sk_buff, network_header),
    SKBREF_FIELD(struct sk_buff, mac_header),
    SKBREF_FIELD(struct sk_buff, tail),
    SKBREF_FIELD(struct sk_buff, end),
    SKBREF_FIELD(struct sk_buff, head),
    SKBREF_FIELD(struct sk_buff, data),
    SKBREF_FIELD(struct sk_buff, truesize),
    SKBREF_FIELD(struct sk_buff, users),
};

static const struct skbref_field skbref_shinfo_fields[] = {
    SKBREF_FIELD(struct skb_shared_info, dataref),
    SKBREF_FIELD(struct skb_shared_info, nr_frags),
    SKBREF_FIELD(struct skb_shared_info, gso_size),
    SKBREF_FIELD(struct skb_shared_info, gso_segs),
    SKBREF_FIELD(struct skb_shared_info, gso_type),
    SKBREF_FIELD(struct skb_shared_info, ip6_frag_id),
    SKBREF_FIELD(struct skb_shared_info, frag_list),
    SKBREF_FIELD(struct skb_shared_info, frags),
};

#ifdef NET_SKBUFF_DATA_USES_OFFSET
#define SKBREF_REPRESENTATION_NAME "off"
#else
#define SKBREF_REPRESENTATION_NAME "ptr"
#endif
#if SKBREF_V_PROFILE == 0
#define SKBREF_PROFILE_NAME "minimal"
#elif SKBREF_V_PROFILE == 1
#define SKBREF_PROFILE_NAME "typical"
#else
#define SKBREF_PROFILE_NAME "distro"
#endif

#ifdef SKBREF_KERNEL
/* 2.6.24 has no alloc_skb_from_cache (the project takes it from 2.6.18): a kernel variant lacks it. */
static int skbref_supports(uint32_t op)
{
    return op != SKBREF_OP_alloc_skb_from_cache;
}
#endif

const struct skbref_variant SKBREF_SYM(skbref_variant) = {
    .name = SKBREF_REPRESENTATION_NAME "-" SKBREF_PROFILE_NAME,
    .uses_offset = SKBREF_V_OFFSET,
    .profile = SKBREF_V_PROFILE,
    .sizeof_sk_buff = (uint32_t)sizeof(struct sk_buff),
    .sizeof_skb_shared_info = (uint32_t)sizeof(struct skb_shared_info),
    .sizeof_sk_buff_data_t = (uint32_t)sizeof(sk_buff_data_t),
    .alignof_sk_buff = (uint32_t)alignof(struct sk_buff),
    .apply = skbref_apply,
    .state = skbref_state,
    .frags = skbref_frags,
    .sk_buff_fields = skbref_sk_buff_fields,
    .sk_buff_field_count = (uint32_t)(sizeof(skbref_sk_buff_fields) / sizeof(skbref_sk_buff_fields[0])),
    .shinfo_fields = skbref_shinfo_fields,
    .shinfo_field_count = (uint32_t)(sizeof(skbref_shinfo_fields) / sizeof(skbref_shinfo_fields[0])),
#ifdef SKBREF_KERNEL
    .supports = skbref_supports,
#endif
};
