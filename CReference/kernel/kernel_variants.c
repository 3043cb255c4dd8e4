/*
 * kernel_variants.c: the kernel worker's six variants (kernel_variant.c compiled per representation
 * and CONFIG profile), found as the C reference's are (skbref_variant_for, CReference/src/shim.c).
 */
#include "skbref_world.h"

extern const struct skbref_variant off_minimal_skbref_variant, ptr_minimal_skbref_variant,
    off_typical_skbref_variant, ptr_typical_skbref_variant, off_distro_skbref_variant, ptr_distro_skbref_variant;

const struct skbref_variant *skbref_variant_for(int uses_offset, int profile)
{
    static const struct skbref_variant *const variants[3][2] = {
        {&ptr_minimal_skbref_variant, &off_minimal_skbref_variant},
        {&ptr_typical_skbref_variant, &off_typical_skbref_variant},
        {&ptr_distro_skbref_variant, &off_distro_skbref_variant},
    };
    if (profile < 0 || profile > 2)
        return NULL;
    return variants[profile][uses_offset ? 1 : 0];
}
