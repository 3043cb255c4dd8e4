/* variant_off_minimal.c: the C reference compiled as off / minimal (see skbuff_impl.h). */
#include "CSKBuff.h"

#define SKBREF_V_PREFIX off_minimal_
#define SKBREF_V_OFFSET 1
#define SKBREF_V_PROFILE 0
#include "skbref_variant_begin.h"
#include "skbuff_impl.h"
#include "skbref_variant_end.h"
