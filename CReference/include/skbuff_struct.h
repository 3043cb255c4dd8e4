/*
 * skbuff_struct.h: struct sk_buff as Linux 2.6.24 declares it (include/linux/skbuff.h), field for
 * field and in order, with its CONFIG_ conditionals. No include guard on purpose: CSKBuff.h includes
 * it once per variant under skbref_variant_begin.h, which renames the struct and defines the
 * representation and the profile's CONFIG_ options. The layout checker parses it through
 * CSKBuff.h with -DSKBREF_LAYOUT_SINGLE and the options on the command line.
 */

/* 64-bit kernels store the five sk_buff_data_t fields as offsets from head, 32-bit ones as pointers. */
#ifdef NET_SKBUFF_DATA_USES_OFFSET
typedef unsigned int sk_buff_data_t;
#else
typedef unsigned char *sk_buff_data_t;
#endif

struct sk_buff {
    /* next and prev first: a list head is walked as if it were an sk_buff. */
    struct sk_buff *next;
    struct sk_buff *prev;

    struct sock *sk;
    ktime_t tstamp;
    struct net_device *dev;

    struct dst_entry *dst;
    struct sec_path *sp;

    char cb[48];

    unsigned int len,
                 data_len;
    __u16 mac_len,
          hdr_len;
    union {
        __wsum csum;
        struct {
            __u16 csum_start;
            __u16 csum_offset;
        };
    };
    __u32 priority;
    __u8 local_df:1,
         cloned:1,
         ip_summed:2,
         nohdr:1,
         nfctinfo:3;
    __u8 pkt_type:3,
         fclone:2,
         ipvs_property:1,
         nf_trace:1;
    __be16 protocol;

    void (*destructor)(struct sk_buff *skb);
#if defined(CONFIG_NF_CONNTRACK) || defined(CONFIG_NF_CONNTRACK_MODULE)
    struct nf_conntrack *nfct;
    struct sk_buff *nfct_reasm;
#endif
#ifdef CONFIG_BRIDGE_NETFILTER
    struct nf_bridge_info *nf_bridge;
#endif

    int iif;
#ifdef CONFIG_NETDEVICES_MULTIQUEUE
    __u16 queue_mapping;
#endif
#ifdef CONFIG_NET_SCHED
    __u16 tc_index;
#ifdef CONFIG_NET_CLS_ACT
    __u16 tc_verd;
#endif
#endif
#ifdef CONFIG_NET_DMA
    dma_cookie_t dma_cookie;
#endif
#ifdef CONFIG_NETWORK_SECMARK
    __u32 secmark;
#endif

    __u32 mark;

    sk_buff_data_t transport_header;
    sk_buff_data_t network_header;
    sk_buff_data_t mac_header;
    /* tail onwards stay last: __alloc_skb zeroes everything before tail (spec section 1). */
    sk_buff_data_t tail;
    sk_buff_data_t end;
    unsigned char *head,
                  *data;
    unsigned int truesize;
    atomic_t users;
};
