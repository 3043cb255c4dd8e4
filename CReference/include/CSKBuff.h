/*
 * CSKBuff.h: the C reference of the Linux 2.6.24 sk_buff helpers.
 *
 * The same implementation (src/skbuff_impl.h) is compiled once per representation (OFF: offsets,
 * PTR: pointers) and CONFIG profile (minimal, typical, distro). Each variant's struct is visible
 * here under its prefix (off_minimal_sk_buff, ptr_distro_sk_buff, ...) so that Swift imports the very
 * struct C compiled, and each exports a descriptor (off_minimal_skbref_variant, ...).
 *
 * With -DSKBREF_LAYOUT_SINGLE the header instead declares the plain 2.6.24 struct sk_buff once, for
 * the representation and CONFIG_ options given on the command line: that is what the layout
 * checker parses with libclang for each target.
 */
#ifndef CSKBUFF_H
#define CSKBUFF_H

#include "skbref_common.h"

#ifdef SKBREF_LAYOUT_SINGLE
#include "skbuff_struct.h"
#else

#define SKBREF_V_PREFIX off_minimal_
#define SKBREF_V_OFFSET 1
#define SKBREF_V_PROFILE 0
#include "skbref_variant_decl.h"

#define SKBREF_V_PREFIX ptr_minimal_
#define SKBREF_V_OFFSET 0
#define SKBREF_V_PROFILE 0
#include "skbref_variant_decl.h"

#define SKBREF_V_PREFIX off_typical_
#define SKBREF_V_OFFSET 1
#define SKBREF_V_PROFILE 1
#include "skbref_variant_decl.h"

#define SKBREF_V_PREFIX ptr_typical_
#define SKBREF_V_OFFSET 0
#define SKBREF_V_PROFILE 1
#include "skbref_variant_decl.h"

#define SKBREF_V_PREFIX off_distro_
#define SKBREF_V_OFFSET 1
#define SKBREF_V_PROFILE 2
#include "skbref_variant_decl.h"

#define SKBREF_V_PREFIX ptr_distro_
#define SKBREF_V_OFFSET 0
#define SKBREF_V_PROFILE 2
#include "skbref_variant_decl.h"

#endif /* SKBREF_LAYOUT_SINGLE */
#endif /* CSKBUFF_H */
