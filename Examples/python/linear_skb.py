#!/usr/bin/env python3
"""A user's own sk_buff, checked by skbdiff over its line protocol (Specs/protocol.md).

The linear helpers of Linux 2.6.24 for x86_64 with NET_SKBUFF_DATA_USES_OFFSET (the "off"
representation: tail and end are unsigned int offsets from head, data is a pointer), written from
the helpers' rules in plain Python:

    skbdiff --arch x86_64 --impl py=python3 Examples/python/linear_skb.py \
        --ops alloc_skb,skb_reserve,skb_put,skb_push,skb_pull,skb_trim,skb_headroom,skb_tailroom,kfree_skb

With --plant, skb_put panics when tail reaches end exactly (">=" for ">"), an off-by-one for
skbdiff to find and shrink.
"""
import sys

PLANTED = "--plant" in sys.argv[1:]
U32 = 0xFFFFFFFF
# sizeof(struct sk_buff) on x86_64 per CONFIG profile, and sizeof(struct skb_shared_info).
SK_BUFF = {"minimal": 192, "typical": 208, "distro": 232}
SHARED_INFO = 312
KMALLOC_MAX = 4 << 20
OPS = ["alloc_skb", "skb_reserve", "skb_put", "skb_push", "skb_pull", "skb_trim",
       "skb_headroom", "skb_tailroom", "kfree_skb"]
FIELDS = ["data", "tail", "end", "len", "data_len", "truesize", "headroom", "tailroom", "users"]


class Skb:
    """head is offset 0; data is a pointer (any integer offset), tail and end are u32 offsets."""

    def __init__(self, size, truesize):
        self.data, self.tail, self.end = 0, 0, size
        self.len, self.truesize, self.users = 0, truesize, 1
        self.frozen = False

    def fields(self):
        headroom = self.data & U32                       # skb_headroom: unsigned int
        tailroom = to_s32(self.end - self.tail)          # skb_tailroom: int (data_len is 0)
        values = [self.data, self.tail, self.end, self.len, 0, self.truesize, headroom, tailroom, self.users]
        return " ".join(f"{n}={v}" for n, v in zip(FIELDS, values))


def to_s32(v):
    v &= U32
    return v - (1 << 32) if v & 0x80000000 else v


class Pool:
    def __init__(self, config, cache_line):
        self.sk_buff = SK_BUFF[config]
        self.cache_line = cache_line
        self.refs = []          # skbN -> Skb, or None (empty or ended)

    def call(self, words):
        name, rest = words[0], words[1:]
        if name == "alloc_skb":
            size = (int(rest[0]) + self.cache_line - 1) & ~(self.cache_line - 1) & U32   # SKB_DATA_ALIGN
            if size + SHARED_INFO > KMALLOC_MAX:
                self.refs.append(None)
                return "NULL"
            self.refs.append(Skb(size, size + self.sk_buff))
            return "ok"
        skb = self.refs[int(rest[0][3:])]
        args = [int(a) for a in rest[1:]]
        if name == "skb_reserve":
            skb.data += args[0]
            skb.tail = (skb.tail + args[0]) & U32
            return "ok"
        if name == "skb_put":
            old = skb.tail
            skb.tail = (skb.tail + args[0]) & U32
            skb.len = (skb.len + args[0]) & U32
            if skb.tail >= skb.end if PLANTED else skb.tail > skb.end:
                skb.frozen = True
                return "panic over"
            return f"ok {old}"
        if name == "skb_push":
            skb.data -= args[0]
            skb.len = (skb.len + args[0]) & U32
            if skb.data < 0:
                skb.frozen = True
                return "panic under"
            if args[0] and skb.data + args[0] > skb.end:  # the pattern written past the buffer
                skb.frozen = True
                return "overflow"
            return f"ok {skb.data}"
        if name == "skb_pull":
            if args[0] > skb.len:
                return "NULL"
            skb.len -= args[0]
            skb.data += args[0]
            return f"ok {skb.data}"
        if name == "skb_trim":
            if skb.len > args[0]:
                skb.len = args[0]
                skb.tail = (skb.data + args[0]) & U32   # skb_set_tail_pointer under OFF
            return "ok"
        if name == "skb_headroom":
            return f"ok {skb.data & U32}"
        if name == "skb_tailroom":
            return f"ok {to_s32(skb.end - skb.tail)}"
        if name == "kfree_skb":
            self.refs[int(rest[0][3:])] = None
            return "ok"
        return None

    def reply(self, outcome):
        clauses = [f"skb{n} {s.fields()}" for n, s in enumerate(self.refs) if s is not None]
        return " | ".join([f"=> {outcome}"] + clauses)


def main():
    pool = None
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "skbdiff":
            out = f"hello version=1 ops={','.join(OPS)} arches=x86_64 representations=off fields={','.join(FIELDS)}"
        elif words[0] == "target":
            t = dict(w.split("=", 1) for w in words[1:])
            pool = Pool(t["config"], int(t["cache-line"]))
            out = "ready"
        else:
            outcome = pool.call(words) if words[0] in OPS else None
            out = "unsupported" if outcome is None else pool.reply(outcome)
        sys.stdout.write(out + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
