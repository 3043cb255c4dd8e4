/* variant_ptr_distro.c: the C reference compiled as ptr / distro (see skbuff_impl.h). */
#include "CSKBuff.h"

#define SKBREF_V_PREFIX ptr_distro_
#define SKBREF_V_OFFSET 0
#define SKBREF_V_PROFILE 2
#include "skbref_variant_begin.h"
#include "skbuff_impl.h"
#include "skbref_variant_end.h"
