/* variant_ptr_typical.c: the C reference compiled as ptr / typical (see skbuff_impl.h). */
#include "CSKBuff.h"

#define SKBREF_V_PREFIX ptr_typical_
#define SKBREF_V_OFFSET 0
#define SKBREF_V_PROFILE 1
#include "skbref_variant_begin.h"
#include "skbuff_impl.h"
#include "skbref_variant_end.h"
