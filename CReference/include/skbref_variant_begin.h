/*
 * skbref_variant_begin.h: enter one variant. Before including, define
 *   SKBREF_V_PREFIX   the symbol prefix, e.g. off_minimal_
 *   SKBREF_V_OFFSET   1 for NET_SKBUFF_DATA_USES_OFFSET (OFF), 0 for pointers (PTR)
 *   SKBREF_V_PROFILE  0 minimal, 1 typical, 2 distro
 * It renames struct sk_buff and sk_buff_data_t with the prefix and defines the representation and
 * the profile's CONFIG_ options; skbref_variant_end.h undoes all of it. No include guard on purpose.
 */
#define SKBREF_CAT2(a, b) a##b
#define SKBREF_CAT(a, b) SKBREF_CAT2(a, b)
#define SKBREF_SYM(name) SKBREF_CAT(SKBREF_V_PREFIX, name)

/* A kernel variant (CReference/kernel) keeps the tree's names, and its tree's skbuff.h decides the
 * representation from the stand-in's BITS_PER_LONG. */
#ifndef SKBREF_KERNEL
#define sk_buff SKBREF_SYM(sk_buff)
#define sk_buff_data_t SKBREF_SYM(sk_buff_data_t)

#if SKBREF_V_OFFSET
#define NET_SKBUFF_DATA_USES_OFFSET 1
#endif
#endif

/* typical: NETFILTER, BRIDGE_NETFILTER, NET_SCHED, NET_CLS_ACT, NETWORK_SECMARK */
#if SKBREF_V_PROFILE >= 1
#define CONFIG_NETFILTER 1
#define CONFIG_BRIDGE_NETFILTER 1
#define CONFIG_NET_SCHED 1
#define CONFIG_NET_CLS_ACT 1
#define CONFIG_NETWORK_SECMARK 1
#endif
/* distro: typical plus NF_CONNTRACK, NETDEVICES_MULTIQUEUE, NET_DMA, XFRM */
#if SKBREF_V_PROFILE >= 2
#define CONFIG_NF_CONNTRACK 1
#define CONFIG_NETDEVICES_MULTIQUEUE 1
#define CONFIG_NET_DMA 1
#define CONFIG_XFRM 1
#endif
