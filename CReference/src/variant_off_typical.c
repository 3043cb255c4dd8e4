/* variant_off_typical.c: the C reference compiled as off / typical (see skbuff_impl.h). */
#include "CSKBuff.h"

#define SKBREF_V_PREFIX off_typical_
#define SKBREF_V_OFFSET 1
#define SKBREF_V_PROFILE 1
#include "skbref_variant_begin.h"
#include "skbuff_impl.h"
#include "skbref_variant_end.h"
