/*
 * skbref_variant_decl.h: the public declarations of one variant: its struct sk_buff and its
 * descriptor. No include guard on purpose: CSKBuff.h includes it once per variant.
 */
#include "skbref_variant_begin.h"
#include "skbuff_struct.h"
extern const struct skbref_variant SKBREF_SYM(skbref_variant);
#include "skbref_variant_end.h"
