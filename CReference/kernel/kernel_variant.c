/*
 * kernel_variant.c: one kernel variant, a kernel tree's own skbuff code in the stand-in environment
 * (Specs/kernel.md). skbdiff compiles it once per representation and CONFIG profile, with
 *   -include skbk_env.h  -DSKBREF_V_PREFIX=off_minimal_ -DSKBREF_V_OFFSET=1 -DSKBREF_V_PROFILE=0
 * and, on the include path, its build directory (the two files it generates from the tree:
 * skbk_names.h and skbk_extracted.c), then CReference/kernel/include (the stand-in kernel headers),
 * then the tree's include/ and net/core/.
 */
#include "skbref_variant_begin.h"

/* skbk_names.h (generated): each function taken from the tree's skbuff.c, and each the stand-in
 * defines for it, gets the variant's prefix, so that six variants link into one worker. */
#include "skbk_names.h"
#define skb_over_panic SKBREF_SYM(skb_over_panic)
#define skb_under_panic SKBREF_SYM(skb_under_panic)
#define nf_conntrack_destroy SKBREF_SYM(nf_conntrack_destroy)
/* The header's two linear-data copy helpers keep their code under another name; the code taken from
 * skbuff.c calls the checked ones below, which call them. */
#define skb_copy_from_linear_data skbk_tree_skb_copy_from_linear_data
#define skb_copy_from_linear_data_offset skbk_tree_skb_copy_from_linear_data_offset

/* The tree's header, as it is. */
#include <linux/skbuff.h>
/* The tree's net/core/kmap_skb.h, as skbuff.c includes it. */
#include "kmap_skb.h"

/* skb_shinfo(), checked (the stand-in's one rule on the tree's macros): the tree's code writes the
 * shared info through it directly, and where end is wild (an allocation whose size wrapped) that
 * write would land outside every object. The check makes it SKBREF_OVERFLOW, as the C reference's
 * skb_shinfo() does, before the access. It applies to the code taken from skbuff.c; the header's
 * inline functions keep the tree's own macro (they run on sk_buffs whose end is sound). */
#undef skb_shinfo
#define skb_shinfo(SKB) ((struct skb_shared_info *)skbk_shinfo((SKB)->head, skb_end_pointer(SKB)))

/* The C reference's checked access windows (skb_linear_window, skb_access). */
#include "skbref_access.h"

/* skb_copy_from_linear_data(_offset), checked: the bytes read are the skb's own packet bytes, in
 * [head, head + end) of its buffer (the C reference's window), else the call ends with overflow. A
 * pointer that left its buffer can land in another object, which the checked memcpy alone would take
 * for a sound access. Then the tree's own helper runs. */
#undef skb_copy_from_linear_data
#undef skb_copy_from_linear_data_offset
static inline void skb_copy_from_linear_data(const struct sk_buff *skb, void *to, const unsigned int len)
{
    skb_access(skb_linear_window(skb), skb->data, len, 0);
    skbk_tree_skb_copy_from_linear_data(skb, to, len);
}
static inline void skb_copy_from_linear_data_offset(const struct sk_buff *skb, const int offset, void *to,
                                                    const unsigned int len)
{
    skb_access(skb_linear_window(skb), skb->data + offset, len, 0);
    skbk_tree_skb_copy_from_linear_data_offset(skb, offset, to, len);
}

/* skbk_extracted.c (generated): the named function definitions and file-scope variables of the
 * tree's net/core/skbuff.c, cut out by libclang at their extents, in file order, each under a #line
 * naming its place in the tree. */
#include "skbk_extracted.c"

/* The stand-in's definitions, then the harness (with the plain mem* functions again). */
#include "skbk_env_impl.h"
#include "skbref_harness.h"
#include "skbref_variant_end.h"
