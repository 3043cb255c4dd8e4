/* variant_off_distro.c: the C reference compiled as off / distro (see skbuff_impl.h). */
#include "CSKBuff.h"

#define SKBREF_V_PREFIX off_distro_
#define SKBREF_V_OFFSET 1
#define SKBREF_V_PROFILE 2
#include "skbref_variant_begin.h"
#include "skbuff_impl.h"
#include "skbref_variant_end.h"
