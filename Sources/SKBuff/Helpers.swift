// The 2.6.24 helpers, one method each, named as in the kernel. Section numbers are the spec's
// (../shared/docs/skbuff-2.6.24.md). Integer arithmetic follows the kernel's C types: `unsigned int`
// is UInt32, `int` is Int32, pointers, long and size_t wrap at the target's width.

extension Kernel {
    // MARK: Allocation (section 1)

    /// __alloc_skb: head from the head or fclone cache, data = kmalloc(SKB_DATA_ALIGN(size) + shinfo),
    /// fields before tail zeroed, truesize = aligned size + sizeof(struct sk_buff).
    @inlinable
    public func __alloc_skb(_ size: UInt32, fclone: Bool) throws(KernelStop) -> SKB? {
        guard let skb = kmemCacheAlloc(count: fclone ? 2 : 1) else { return nil }
        let size = SKB_DATA_ALIGN(size)
        guard let buffer = kmalloc(withSharedInfo(Int64(size))) else {
            try kmemCacheFree(skb, count: fclone ? 2 : 1)
            return nil
        }
        try initialiseHead(skb, buffer: buffer, size: size)
        if fclone {
            // The pair shares one object: the companion is skb + 1, fclone_ref the atomic_t after it.
            update(skb) { $0.fclone = .orig }
            slots[Int(skb.index)].fcloneRef = 1
            update(SKB(index: skb.index + 1)) { $0.fclone = .unavailable }
        }
        return skb
    }

    /// The common tail of __alloc_skb and alloc_skb_from_cache: memset up to tail, truesize, users,
    /// head = data = tail, end = tail + size, and the shared info at the end.
    @inlinable
    func initialiseHead(_ skb: SKB, buffer: Int32, size: UInt32) throws(KernelStop) {
        var s = SKBuff<R>()
        s.truesize = size &+ sizing.skBuff &+ (mutated(.truesizeShinfo) ? sizing.sharedInfo : 0)
        s.users = 1
        s.head = buffers[Int(buffer)].base
        s.data = s.head
        s.buffer = buffer
        s.tail = R.field(for: s.data, head: s.head)
        s.end = R.add(s.tail, Int64(size), mask: mask)
        // The shared info must fit inside the object (on i386 a wrapped kmalloc size does not).
        let at = endOffset(s)
        guard at >= 0, at + shinfoSize <= Int64(buffers[Int(buffer)].size) else { throw .overflow }
        update(buffer: buffer) {
            $0.shinfoAt = at
            $0.shinfo = SharedInfo(dataref: 1)
        }
        update(skb) { $0 = s }
    }

    /// alloc_skb = __alloc_skb(size, gfp, 0, -1).
    @inlinable
    public func alloc_skb(_ size: UInt32) throws(KernelStop) -> SKB? { try __alloc_skb(size, fclone: false) }

    /// alloc_skb_fclone = __alloc_skb(size, gfp, 1, -1).
    @inlinable
    public func alloc_skb_fclone(_ size: UInt32) throws(KernelStop) -> SKB? { try __alloc_skb(size, fclone: true) }

    /// __dev_alloc_skb: alloc_skb(length + NET_SKB_PAD), then skb_reserve(NET_SKB_PAD).
    @inlinable
    public func dev_alloc_skb(_ length: UInt32) throws(KernelStop) -> SKB? {
        let pad = mutated(.devAllocPad) ? 32 : Kernel.netSkbPad
        guard let skb = try alloc_skb(length &+ pad) else { return nil }
        skb_reserve(skb, Int32(pad))
        return skb
    }

    /// alloc_skb_from_cache (2.6.18) on the 2.6.24 structure (section 8): the buffer is an object of a
    /// cache of `objectSize` bytes, taken after the head as the kernel takes it; a request whose
    /// shared info does not fit in the object is then `overflow` (where 2.6.18 overran it silently),
    /// with the head and the object still allocated, as the kernel left them; a cache larger than
    /// KMALLOC_MAX_SIZE, or of 0-byte objects, cannot be created (NULL).
    @inlinable
    public func alloc_skb_from_cache(objectSize: UInt32, _ size: UInt32) throws(KernelStop) -> SKB? {
        guard objectSize != 0, UInt64(objectSize) <= Kernel.kmallocMaxSize else { return nil }
        guard let skb = kmemCacheAlloc(count: 1) else { return nil }
        let size = SKB_DATA_ALIGN(size)
        guard let buffer = kmalloc(UInt64(objectSize)) else {
            try kmemCacheFree(skb, count: 1)
            return nil
        }
        guard UInt64(size) + UInt64(shinfoSize) <= UInt64(objectSize) else { throw .overflow }
        try initialiseHead(skb, buffer: buffer, size: size)
        if mutated(.fromCacheTruesize) { update(skb) { $0.truesize = objectSize &+ sizing.skBuff } }
        return skb
    }

    // MARK: Linear-area operations (section 2)

    /// skb_reserve: data += len; tail += len. No check.
    @inlinable
    public func skb_reserve(_ skb: SKB, _ len: Int32) {
        update(skb) {
            $0.data = ($0.data &+ UInt64(bitPattern: Int64(len))) & mask
            $0.tail = R.add($0.tail, Int64(len), mask: mask)
            if mutated(.reserveLen) { $0.len &+= UInt32(bitPattern: len) }
        }
    }

    /// __skb_put: SKB_LINEAR_ASSERT, tail += len, len += len; returns the old tail pointer.
    @inlinable
    public func __skb_put(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Address {
        let s = self[skb]
        let tmp = skb_tail_pointer(skb)
        if s.dataLen != 0 { throw .bug(.linearAssert) }
        update(skb) {
            $0.tail = R.add($0.tail, Int64(len), mask: mask)
            $0.len &+= len
        }
        return tmp
    }

    /// skb_put: __skb_put, then skb_over_panic if tail > end, checked after the update (quirks 3, 6).
    @inlinable
    public func skb_put(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Address {
        let tmp = try __skb_put(skb, len)
        let s = self[skb]
        if s.tail > s.end || (mutated(.putGe) && s.tail == s.end) { throw .panicOver }
        return mutated(.putReturnsNewTail) ? skb_tail_pointer(skb) : tmp
    }

    /// __skb_push: data -= len; len += len; returns data.
    @inlinable
    public func __skb_push(_ skb: SKB, _ len: UInt32) -> Address {
        update(skb) {
            $0.data = ($0.data &- UInt64(len)) & mask
            $0.len &+= len
        }
        return self[skb].data
    }

    /// skb_push: __skb_push, then skb_under_panic if data < head, checked after the update.
    @inlinable
    public func skb_push(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Address {
        let data = __skb_push(skb, len)
        if data < self[skb].head || (mutated(.pushLe) && data == self[skb].head) { throw .panicUnder }
        return data
    }

    /// __skb_pull: len -= len, BUG_ON(len < data_len) after the unsigned subtraction (quirk 7), data += len.
    @inlinable
    public func __skb_pull(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Address {
        update(skb) { $0.len &-= len }
        if self[skb].len < self[skb].dataLen { throw .bug(.pullDataLen) }
        update(skb) { $0.data = ($0.data &+ UInt64(len)) & mask }
        return self[skb].data
    }

    /// skb_pull: NULL if len > skb->len, else __skb_pull.
    @inlinable
    public func skb_pull(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Address? {
        if len > self[skb].len || (mutated(.pullGe) && len == self[skb].len) { return nil }
        return try __skb_pull(skb, len)
    }

    /// __skb_trim: WARN and return when nonlinear; else len = len and tail = data + len.
    @inlinable
    public func __skb_trim(_ skb: SKB, _ len: UInt32) {
        if self[skb].dataLen != 0 { return }
        update(skb) { $0.len = len }
        skb_set_tail_pointer(skb, Int32(bitPattern: len))
    }

    /// skb_trim: __skb_trim only when skb->len > len.
    @inlinable
    public func skb_trim(_ skb: SKB, _ len: UInt32) {
        if self[skb].len > len || (mutated(.trimGe) && self[skb].len == len) { __skb_trim(skb, len) }
    }

    /// skb_headroom: data - head as unsigned int.
    @inlinable
    public func skb_headroom(_ skb: SKB) -> UInt32 {
        let s = self[skb]
        return UInt32(truncatingIfNeeded: s.data &- s.head)
    }

    /// skb_tailroom: 0 when nonlinear, else end - tail as int.
    @inlinable
    public func skb_tailroom(_ skb: SKB) -> Int32 {
        let s = self[skb]
        return s.dataLen != 0 ? 0 : Int32(truncatingIfNeeded: s.end &- s.tail)
    }

    /// skb_headlen: len - data_len.
    @inlinable
    public func skb_headlen(_ skb: SKB) -> UInt32 { self[skb].len &- self[skb].dataLen }

    // MARK: Accessors (section 0)

    @inlinable
    public func skb_tail_pointer(_ skb: SKB) -> Address { R.pointer(self[skb].tail, head: self[skb].head, mask: mask) }
    @inlinable
    public func skb_end_pointer(_ skb: SKB) -> Address { R.pointer(self[skb].end, head: self[skb].head, mask: mask) }

    /// skb_reset_tail_pointer: tail = data (as an offset under OFF).
    @inlinable
    public func skb_reset_tail_pointer(_ skb: SKB) {
        update(skb) { $0.tail = R.field(for: $0.data, head: $0.head) }
    }

    /// skb_set_tail_pointer: reset, then tail += offset (OFF) / tail = data + offset (PTR).
    @inlinable
    public func skb_set_tail_pointer(_ skb: SKB, _ offset: Int32) {
        let forgetsData = R.usesOffset && mutated(.setTailOffForgetsData)
        update(skb) { $0.tail = R.add(R.field(for: forgetsData ? $0.head : $0.data, head: $0.head), Int64(offset), mask: mask) }
    }

    @inlinable
    public func skb_reset_mac_header(_ skb: SKB) { update(skb) { $0.macHeader = R.field(for: $0.data, head: $0.head) } }
    @inlinable
    public func skb_reset_network_header(_ skb: SKB) { update(skb) { $0.networkHeader = R.field(for: $0.data, head: $0.head) } }
    @inlinable
    public func skb_reset_transport_header(_ skb: SKB) { update(skb) { $0.transportHeader = R.field(for: $0.data, head: $0.head) } }

    /// skb_set_X_header: reset, then += offset (OFF) / data + offset (PTR). Nothing checks the result.
    @inlinable
    public func skb_set_mac_header(_ skb: SKB, _ offset: Int32) {
        update(skb) { $0.macHeader = R.add(R.field(for: $0.data, head: $0.head), Int64(offset), mask: mask) }
    }
    @inlinable
    public func skb_set_network_header(_ skb: SKB, _ offset: Int32) {
        update(skb) { $0.networkHeader = R.add(R.field(for: $0.data, head: $0.head), Int64(offset), mask: mask) }
    }
    @inlinable
    public func skb_set_transport_header(_ skb: SKB, _ offset: Int32) {
        update(skb) { $0.transportHeader = R.add(R.field(for: $0.data, head: $0.head), Int64(offset), mask: mask) }
    }

    /// skb_mac_header_was_set: mac_header != ~0U (OFF) / != NULL (PTR). Nothing in 2.6.24 stores ~0U,
    /// so a fresh skb answers 1 under OFF and 0 under PTR (quirk 2).
    @inlinable
    public func skb_mac_header_was_set(_ skb: SKB) -> Int32 { self[skb].macHeader != R.macUnset ? 1 : 0 }

    // MARK: Sharing and reference counts (section 3)

    /// skb_get: users++.
    @inlinable
    public func skb_get(_ skb: SKB) -> SKB {
        update(skb) { $0.users &+= 1 }
        return skb
    }

    /// skb_shared: users != 1.
    @inlinable
    public func skb_shared(_ skb: SKB) -> Int32 { self[skb].users != 1 ? 1 : 0 }

    /// skb_cloned: cloned && (dataref & SKB_DATAREF_MASK) != 1.
    @inlinable
    public func skb_cloned(_ skb: SKB) throws(KernelStop) -> Int32 {
        guard self[skb].cloned else { return 0 }
        return try shinfo(skb).dataref & 0xFFFF != 1 ? 1 : 0
    }

    /// skb_header_cloned: cloned && (dataref & mask) - (dataref >> 16) != 1 (quirk 10).
    @inlinable
    public func skb_header_cloned(_ skb: SKB) throws(KernelStop) -> Int32 {
        guard self[skb].cloned else { return 0 }
        let dataref = try shinfo(skb).dataref
        if mutated(.headerClonedPlus) { return (dataref & 0xFFFF) &+ (dataref >> 16) != 1 ? 1 : 0 }
        return (dataref & 0xFFFF) &- (dataref >> 16) != 1 ? 1 : 0
    }

    /// skb_header_release: BUG_ON(nohdr); nohdr = 1; dataref += 1 << 16.
    @inlinable
    public func skb_header_release(_ skb: SKB) throws(KernelStop) {
        if self[skb].nohdr { throw .bug(.headerRelease) }
        update(skb) { $0.nohdr = true }
        let b = try shinfoBuffer(self[skb])
        update(buffer: b) { $0.shinfo.dataref &+= mutated(.headerReleaseOne) ? 1 : 1 << 16 }
    }

    /// kfree_skb: users == 1 frees without a decrement; otherwise --users and free only at 0.
    @inlinable
    public func kfree_skb(_ skb: SKB?) throws(KernelStop) {
        guard let skb else { return }
        if self[skb].users != 1 {
            update(skb) { $0.users &-= 1 }
            if self[skb].users != 0 { return }
        }
        try __kfree_skb(skb)
    }

    /// __kfree_skb: skb_release_all (only skb_release_data is observable here), then kfree_skbmem.
    @inlinable
    func __kfree_skb(_ skb: SKB) throws(KernelStop) {
        try skb_release_data(skb)
        try kfree_skbmem(skb)
    }

    /// skb_release_data: if !cloned, or when dataref drops to 0 (by (1 << 16) + 1 when nohdr):
    /// put_page every frag, then free the buffer. An uncloned skb never decrements dataref.
    @inlinable
    func skb_release_data(_ skb: SKB) throws(KernelStop) {
        let s = self[skb]
        if s.cloned {
            let b = try shinfoBuffer(s)
            update(buffer: b) { $0.shinfo.dataref &-= s.nohdr && !mutated(.releaseIgnoresNohdr) ? (1 << 16) + 1 : 1 }
            if buffers[b].shinfo.dataref != 0 { return }
        }
        let shinfo = try shinfo(skb)
        for i in 0..<Int(shinfo.nrFrags) { try put_page(shinfo.frag(i).page) }
        try kfree(s.buffer)
    }

    /// kfree_skbmem: by fclone state; a CLONE marks itself UNAVAILABLE so the slot can be reused.
    @inlinable
    func kfree_skbmem(_ skb: SKB) throws(KernelStop) {
        switch self[skb].fclone {
        case .unavailable:
            try kmemCacheFree(skb, count: 1)
        case .orig:
            slots[Int(skb.index)].fcloneRef &-= 1
            if slots[Int(skb.index)].fcloneRef == 0 { try kmemCacheFree(skb, count: 2) }
        case .clone:
            let other = SKB(index: skb.index - 1)
            if !mutated(.fcloneStaysBusy) { update(skb) { $0.fclone = .unavailable } }
            slots[Int(other.index)].fcloneRef &-= 1
            if slots[Int(other.index)].fcloneRef == 0 { try kmemCacheFree(other, count: 2) }
        }
    }

    /// skb_clone: the fclone companion when skb is ORIG and the companion is UNAVAILABLE, else a new
    /// head; then __skb_clone.
    @inlinable
    public func skb_clone(_ skb: SKB) throws(KernelStop) -> SKB? {
        let n: SKB
        let companion = SKB(index: skb.index + 1)
        if self[skb].fclone == .orig && self[companion].fclone == .unavailable {
            n = companion
            update(n) { $0.fclone = .clone }
            slots[Int(skb.index)].fcloneRef &+= 1
        } else {
            guard let head = kmemCacheAlloc(count: 1) else { return nil }
            n = head
            update(n) { $0.fclone = .unavailable }
        }
        return try __skb_clone(n, skb)
    }

    /// __skb_clone: copy the header and the buffer pointers, users = 1, cloned = 1, nohdr = 0;
    /// then dataref++ and cloned = 1 on the original. Data and shinfo are shared.
    @inlinable
    func __skb_clone(_ n: SKB, _ skb: SKB) throws(KernelStop) -> SKB {
        let s = self[skb]
        let headroom = skb_headroom(skb)
        update(n) { c in
            __copy_skb_header(&c, s)
            c.len = s.len
            c.dataLen = s.dataLen
            if !mutated(.cloneNoMacLen) { c.macLen = s.macLen }
            c.hdrLen = s.nohdr && !mutated(.cloneHdrLenKept) ? UInt16(truncatingIfNeeded: headroom) : s.hdrLen
            c.cloned = true
            c.nohdr = mutated(.cloneKeepsNohdr) ? s.nohdr : false
            c.tail = s.tail
            c.end = s.end
            c.head = s.head
            c.data = s.data
            c.buffer = s.buffer
            c.truesize = s.truesize
            c.users = 1
        }
        if !mutated(.cloneNoDataref) {
            let b = try shinfoBuffer(s)
            update(buffer: b) { $0.shinfo.dataref &+= 1 }
        }
        update(skb) { $0.cloned = true }
        return n
    }

    /// __copy_skb_header: the fields both clone and copy take over as they are, including the three
    /// headers, raw (no rebasing), and the csum union.
    @inlinable
    func __copy_skb_header(_ new: inout SKBuff<R>, _ old: SKBuff<R>) {
        new.transportHeader = old.transportHeader
        new.networkHeader = old.networkHeader
        new.macHeader = old.macHeader
        new.csum = old.csum
        new.ipSummed = old.ipSummed
    }

    /// skb_unshare: when cloned, skb_copy and drop the original, even when the copy failed (quirk 9).
    @inlinable
    public func skb_unshare(_ skb: SKB) throws(KernelStop) -> SKB? {
        guard try skb_cloned(skb) != 0 else { return skb }
        let nskb = try skb_copy(skb)
        try kfree_skb(skb)
        return nskb
    }

    /// skb_share_check: when shared, skb_clone and drop our reference to the original.
    @inlinable
    public func skb_share_check(_ skb: SKB) throws(KernelStop) -> SKB? {
        guard skb_shared(skb) != 0 else { return skb }
        let nskb = try skb_clone(skb)
        try kfree_skb(skb)
        return nskb
    }

    // MARK: Copies and reallocation (section 4)

    /// copy_skb_header: __copy_skb_header; under PTR only, the headers are rebased by
    /// new->data - old->data (quirk 1: an unset header becomes wild); the gso fields are copied.
    @inlinable
    func copy_skb_header(_ new: SKB, _ old: SKB) throws(KernelStop) {
        let o = self[old]
        let offset = Int64(bitPattern: (self[new].data &- o.data) & mask)
        update(new) { n in
            __copy_skb_header(&n, o)
            if !R.usesOffset {
                n.transportHeader = R.add(n.transportHeader, offset, mask: mask)
                n.networkHeader = R.add(n.networkHeader, offset, mask: mask)
                n.macHeader = R.add(n.macHeader, offset, mask: mask)
            }
        }
        let from = try shinfo(old)
        let b = try shinfoBuffer(self[new])
        update(buffer: b) { $0.shinfo.gsoSize = from.gsoSize }
        if !mutated(.copyNoGsoSegs) { update(buffer: b) { $0.shinfo.gsoSegs = from.gsoSegs } }
        update(buffer: b) { $0.shinfo.gsoType = from.gsoType }
        if mutated(.copyIp6FragId) { update(buffer: b) { $0.shinfo.ip6FragId = from.ip6FragId } }
    }

    /// skb_copy_bits: -EFAULT when offset > len - len (int); copy from data + offset (offset may be
    /// negative, into the headroom) what lies in the head (skb_headlen bytes), then from each frag's
    /// page in turn, until len bytes are copied (0), or -EFAULT when the frags end first. No frag_list.
    @inlinable
    func skb_copy_bits(_ skb: SKB, _ offset: Int32, to: CopyDestination, _ len: Int32) throws(KernelStop) -> Int32 {
        let s = self[skb]
        var offset = offset
        var len = len
        var to = to
        var start = Int32(truncatingIfNeeded: skb_headlen(skb))
        if offset > Int32(truncatingIfNeeded: s.len) &- len { return Kernel.EFAULT }
        var copy = start &- offset
        if copy > 0 {
            if copy > len { copy = len }
            let from = arch.signedDifference((s.data &+ UInt64(bitPattern: Int64(offset))) & mask, s.head)
            try copyBytes(to: to, from: .buffer(s.buffer, from, limit: endOffset(s)), count: UInt64(bitPattern: Int64(copy)) & mask)
            len &-= copy
            if len == 0 { return 0 }
            offset &+= copy
            to = to.advanced(by: copy)
        }
        // The frags (the copies above write below end, never into the shared info).
        let shinfo = try shinfo(skb)
        for i in 0..<Int(shinfo.nrFrags) {
            let frag = shinfo.frag(i)
            // BUG_TRAP(start <= offset + len) only warns.
            let end = Int32(truncatingIfNeeded: UInt32(bitPattern: start) &+ frag.size)
            copy = end &- offset
            if copy > 0 {
                let page = try livePage(frag.page)
                if copy > len { copy = len }
                let at = Int64(frag.pageOffset) + Int64(offset &- start)
                try copyBytes(to: to, from: .page(page, at), count: UInt64(bitPattern: Int64(copy)) & mask)
                len &-= copy
                if len == 0 { return 0 }
                offset &+= copy
                to = to.advanced(by: copy)
            }
            start = end
        }
        if len == 0 { return 0 }
        return Kernel.EFAULT
    }

    /// skb_copy: a linear copy with the same headroom; alloc_skb(end + data_len) (OFF) /
    /// (end - head + data_len) (PTR): the same value. Headroom bytes are copied too.
    @inlinable
    public func skb_copy(_ skb: SKB) throws(KernelStop) -> SKB? {
        let s = self[skb]
        let headerlen = Int32(truncatingIfNeeded: s.data &- s.head)
        guard let n = try alloc_skb(UInt32(truncatingIfNeeded: endOffset(s) &+ Int64(s.dataLen))) else { return nil }
        skb_reserve(n, headerlen)
        _ = try skb_put(n, s.len)
        let len = Int32(truncatingIfNeeded: UInt32(bitPattern: headerlen) &+ s.len)
        if try skb_copy_bits(skb, 0 &- headerlen, to: .buffer(self[n].buffer, 0, limit: endOffset(self[n])), len) != 0 {
            throw .bug(.copyBits)
        }
        try copy_skb_header(n, skb)
        return n
    }

    /// pskb_copy: alloc_skb(end) with the same headroom, only headlen bytes from data copied (the
    /// headroom is not), truesize += data_len (quirk 5); the frag descriptors copied, each page
    /// getting a reference (get_page); then copy_skb_header.
    @inlinable
    public func pskb_copy(_ skb: SKB) throws(KernelStop) -> SKB? {
        let s = self[skb]
        guard let n = try alloc_skb(UInt32(truncatingIfNeeded: endOffset(s))) else { return nil }
        skb_reserve(n, Int32(truncatingIfNeeded: s.data &- s.head))
        _ = try skb_put(n, skb_headlen(skb))
        let t = self[n]
        try copyBytes(to: .buffer(t.buffer, dataOffset(t), limit: endOffset(t)), from: .buffer(s.buffer, dataOffset(s), limit: endOffset(s)),
                      count: UInt64(t.len))
        update(n) {
            $0.truesize &+= s.dataLen
            $0.dataLen = s.dataLen
            $0.len = s.len
        }
        let from = try shinfo(skb)
        if from.nrFrags != 0 {
            let b = try shinfoBuffer(self[n])
            for i in 0..<Int(from.nrFrags) {
                update(buffer: b) { $0.shinfo.setFrag(i, from.frag(i)) }
                if !mutated(.pskbCopyNoGetPage) { try get_page(from.frag(i).page) }
            }
            update(buffer: b) { $0.shinfo.nrFrags = from.nrFrags }
        }
        // No frag_list to share.
        try copy_skb_header(n, skb)
        return n
    }

    /// pskb_expand_head: a new buffer of SKB_DATA_ALIGN(nhead + end + ntail), bytes [head, tail) copied
    /// to data + nhead, the shared info moved, get_page on every frag (the new shared info holds them
    /// too), the old data released; every header and tail offset
    /// grows by nhead (OFF: off = nhead; PTR: the pointer delta). truesize is not updated (quirk 5);
    /// unset headers are rebased too (quirk 1); csum_start += nhead regardless of ip_summed (quirk 4).
    @inlinable
    public func pskb_expand_head(_ skb: SKB, _ nhead: Int32, _ ntail: Int32) throws(KernelStop) -> Int32 {
        let s = self[skb]
        // int size = nhead + end + ntail (OFF) / nhead + (end - head) + ntail (PTR): the same bits.
        var size = nhead &+ Int32(truncatingIfNeeded: endOffset(s)) &+ ntail
        if skb_shared(skb) != 0 { throw .bug(.expandShared) }
        size = SKB_DATA_ALIGN(size)
        guard let newBuffer = kmalloc(withSharedInfo(Int64(size))) else {
            if mutated(.expandFailureUncloned) { update(skb) { $0.cloned = false } }
            return Kernel.ENOMEM
        }
        let newBase = buffers[Int(newBuffer)].base

        // memcpy(data + nhead, head, tail) (OFF) / (tail - head) (PTR): a size_t count.
        try copyBytes(to: .buffer(newBuffer, Int64(nhead), limit: Int64(size)), from: .buffer(s.buffer, 0, limit: endOffset(s)),
                      count: UInt64(bitPattern: tailOffset(s)) & mask)
        // memcpy(data + size, skb_end_pointer(skb), sizeof(struct skb_shared_info))
        let old = try shinfo(skb)
        guard Int64(size) >= 0, Int64(size) + shinfoSize <= Int64(buffers[Int(newBuffer)].size) else { throw .overflow }
        update(buffer: newBuffer) {
            $0.shinfoAt = Int64(size)
            $0.shinfo = old
        }
        if !mutated(.expandNoGetPage) { for i in 0..<Int(old.nrFrags) { try get_page(old.frag(i).page) } }

        try skb_release_data(skb)

        var off = arch.signedDifference((newBase &+ UInt64(bitPattern: Int64(nhead))) & mask, s.head)
        update(skb) { n in
            n.head = newBase
            n.buffer = newBuffer
            n.data = (n.data &+ UInt64(bitPattern: off)) & mask
            if R.usesOffset {
                n.end = R.Stored(truncatingIfNeeded: UInt32(bitPattern: size))
                off = Int64(nhead)
            } else {
                n.end = R.Stored(truncatingIfNeeded: (newBase &+ UInt64(bitPattern: Int64(size))) & mask)
            }
            n.tail = R.add(n.tail, off, mask: mask)
            n.transportHeader = R.add(n.transportHeader, off, mask: mask)
            n.networkHeader = R.add(n.networkHeader, off, mask: mask)
            if R.usesOffset || !mutated(.expandPtrMacKept) { n.macHeader = R.add(n.macHeader, off, mask: mask) }
            if !mutated(.expandCsumKept) { n.csumStart &+= UInt16(truncatingIfNeeded: nhead) }
            if mutated(.expandTruesize) { n.truesize &+= UInt32(bitPattern: nhead) &+ UInt32(bitPattern: ntail) }
            n.cloned = false
            if !mutated(.expandHdrLenKept) { n.hdrLen = 0 }
            n.nohdr = false
        }
        update(buffer: newBuffer) { $0.shinfo.dataref = 1 }
        return 0
    }

    /// skb_realloc_headroom: delta <= 0 gives pskb_copy (headroom not reduced); otherwise a clone
    /// expanded by SKB_DATA_ALIGN(delta), freed again if that fails.
    @inlinable
    public func skb_realloc_headroom(_ skb: SKB, _ headroom: UInt32) throws(KernelStop) -> SKB? {
        let delta = Int32(truncatingIfNeeded: headroom &- skb_headroom(skb))
        if delta < 0 || (delta == 0 && !mutated(.reallocDeltaLt)) { return try pskb_copy(skb) }
        guard let skb2 = try skb_clone(skb) else { return nil }
        if try pskb_expand_head(skb2, SKB_DATA_ALIGN(delta), 0) != 0 {
            try kfree_skb(skb2)
            return nil
        }
        return skb2
    }

    /// skb_copy_expand: a copy with new head- and tailroom; min(old, new) headroom bytes nearest data
    /// are copied; headers rebased by newheadroom - oldheadroom under OFF only (PTR did it in
    /// copy_skb_header); csum_start += off.
    @inlinable
    public func skb_copy_expand(_ skb: SKB, _ newheadroom: Int32, _ newtailroom: Int32) throws(KernelStop) -> SKB? {
        let s = self[skb]
        let n0 = try alloc_skb(UInt32(bitPattern: newheadroom) &+ s.len &+ UInt32(bitPattern: newtailroom))
        let oldheadroom = Int32(truncatingIfNeeded: skb_headroom(skb))
        guard let n = n0 else { return nil }
        skb_reserve(n, newheadroom)
        _ = try skb_put(n, s.len)
        var headCopyLen = oldheadroom
        var headCopyOff: Int32 = 0
        if newheadroom <= headCopyLen {
            headCopyLen = newheadroom
        } else {
            headCopyOff = newheadroom &- headCopyLen
        }
        let len = Int32(truncatingIfNeeded: s.len &+ UInt32(bitPattern: headCopyLen))
        if try skb_copy_bits(skb, 0 &- headCopyLen, to: .buffer(self[n].buffer, Int64(headCopyOff), limit: endOffset(self[n])), len) != 0 {
            throw .bug(.copyBits)
        }
        try copy_skb_header(n, skb)
        let off = newheadroom &- oldheadroom
        update(n) { c in
            if !mutated(.copyExpandCsumKept) { c.csumStart &+= UInt16(truncatingIfNeeded: off) }
            if R.usesOffset && !mutated(.copyExpandOffHeadersKept) {
                c.transportHeader = R.add(c.transportHeader, Int64(off), mask: mask)
                c.networkHeader = R.add(c.networkHeader, Int64(off), mask: mask)
                c.macHeader = R.add(c.macHeader, Int64(off), mask: mask)
            }
        }
        return n
    }

    /// __skb_cow: headroom at least NET_SKB_PAD; expand by ALIGN(delta, NET_SKB_PAD) when short of
    /// headroom or when `cloned`.
    @inlinable
    func __skb_cow(_ skb: SKB, _ headroom: UInt32, cloned: Int32) throws(KernelStop) -> Int32 {
        var headroom = headroom
        var delta: Int32 = 0
        if headroom < Kernel.netSkbPad { headroom = Kernel.netSkbPad }
        if headroom > skb_headroom(skb) || (mutated(.cowGe) && headroom == skb_headroom(skb)) {
            delta = Int32(truncatingIfNeeded: headroom &- skb_headroom(skb))
        }
        if delta != 0 || cloned != 0 {
            let pad = Int32(Kernel.netSkbPad)
            return try pskb_expand_head(skb, (delta &+ (pad - 1)) & ~(pad - 1), 0)
        }
        return 0
    }

    /// skb_cow = __skb_cow(skb, headroom, skb_cloned(skb)).
    @inlinable
    public func skb_cow(_ skb: SKB, _ headroom: UInt32) throws(KernelStop) -> Int32 {
        try __skb_cow(skb, headroom, cloned: skb_cloned(skb))
    }

    /// skb_cow_head = __skb_cow(skb, headroom, skb_header_cloned(skb)).
    @inlinable
    public func skb_cow_head(_ skb: SKB, _ headroom: UInt32) throws(KernelStop) -> Int32 {
        try __skb_cow(skb, headroom, cloned: skb_header_cloned(skb))
    }

    /// skb_pad: zero pad bytes past data + len, expanding first when cloned or short of tailroom, then
    /// skb_linearize; on failure the skb is freed and the error returned. len never changes (tail only
    /// when a nonlinear skb is linearised).
    /// Returns the int result and whether the skb was freed.
    @inlinable
    public func skb_pad(_ skb: SKB, _ pad: Int32) throws(KernelStop) -> (Int32, freed: Bool) {
        if try skb_cloned(skb) == 0 && (mutated(.padGt) ? skb_tailroom(skb) > pad : skb_tailroom(skb) >= pad) {
            try zeroAfterLen(skb, pad)
            return (0, false)
        }
        let s = self[skb]
        let ntail = Int32(truncatingIfNeeded: s.dataLen &+ UInt32(bitPattern: pad) &- UInt32(truncatingIfNeeded: s.end &- s.tail))
        if try skb_cloned(skb) != 0 || ntail > 0 {
            let err = try pskb_expand_head(skb, 0, ntail)
            if err != 0 {
                if mutated(.padFailureKeeps) { return (err, false) }
                try kfree_skb(skb)
                return (err, true)
            }
        }
        // A nonlinear skb is pulled whole into the head (the ntail above made room for data_len).
        let err = try skb_linearize(skb)
        if err != 0 {
            if mutated(.padFailureKeeps) { return (err, false) }
            try kfree_skb(skb)
            return (err, true)
        }
        try zeroAfterLen(skb, pad)
        return (0, false)
    }

    /// memset(skb->data + skb->len, 0, pad)
    @inlinable
    func zeroAfterLen(_ skb: SKB, _ pad: Int32) throws(KernelStop) {
        let s = self[skb]
        let start = arch.signedDifference((s.data &+ UInt64(s.len)) & mask, s.head)
        try zeroBytes(s.buffer, start: start, count: UInt64(bitPattern: Int64(pad)) & mask, limit: endOffset(s))
    }

    /// skb_padto: 0 when skb->len >= len, else skb_pad(skb, len - skb->len).
    @inlinable
    public func skb_padto(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> (Int32, freed: Bool) {
        let size = self[skb].len
        if size >= len { return (0, false) }
        return try skb_pad(skb, Int32(bitPattern: len &- size))
    }

    // MARK: Nonlinear skbs (Specs/paged.md)

    /// skb_is_nonlinear: data_len, returned as an int.
    @inlinable
    public func skb_is_nonlinear(_ skb: SKB) -> Int32 { Int32(bitPattern: self[skb].dataLen) }

    /// skb_pagelen: the frags' sizes summed in an int from the last, plus skb_headlen.
    @inlinable
    public func skb_pagelen(_ skb: SKB) throws(KernelStop) -> Int32 {
        let shinfo = try shinfo(skb)
        var len: Int32 = 0
        var i = Int(shinfo.nrFrags) - 1
        while i >= 0 {
            len = Int32(bitPattern: UInt32(bitPattern: len) &+ shinfo.frag(i).size)
            i -= 1
        }
        return Int32(bitPattern: UInt32(bitPattern: len) &+ skb_headlen(skb))
    }

    /// skb_fill_page_desc: frags[i] = {page, off, size}, nr_frags = i + 1 (no get_page, len untouched).
    @inlinable
    func skb_fill_page_desc(_ skb: SKB, _ i: Int, page: UInt32, _ off: UInt32, _ size: UInt32) throws(KernelStop) {
        let b = try shinfoBuffer(self[skb])
        update(buffer: b) {
            $0.shinfo.setFrag(i, SkbFrag(page: page, pageOffset: off, size: size))
            $0.shinfo.nrFrags = UInt16(truncatingIfNeeded: i + 1)
        }
    }

    /// __pskb_pull_tail: make delta more bytes linear. eat = tail + delta - end (int: the same bits
    /// under OFF and PTR); when eat > 0 or the data is cloned, pskb_expand_head(0, eat > 0 ? eat + 128
    /// : 0) (NULL when that fails); copy delta bytes from offset headlen to tail (BUG when that fails);
    /// drop the frags delta covers (put_page; an unsigned comparison, so an empty frag always goes) and
    /// trim the one it ends in; tail += delta, data_len -= delta. Returns the new tail (0: NULL).
    @inlinable
    public func __pskb_pull_tail(_ skb: SKB, _ delta: Int32) throws(KernelStop) -> Address {
        let s = self[skb]
        var eat = Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: tailOffset(s)) &+ UInt32(bitPattern: delta)
                            &- UInt32(truncatingIfNeeded: endOffset(s)))
        var expand = eat > 0
        if !expand { expand = try skb_cloned(skb) != 0 }
        if expand, try pskb_expand_head(skb, 0, eat > 0 ? eat &+ 128 : 0) != 0 { return 0 }
        let t = self[skb]
        if try skb_copy_bits(skb, Int32(bitPattern: skb_headlen(skb)), to: .buffer(t.buffer, tailOffset(t), limit: endOffset(t)), delta) != 0 {
            throw .bug(.copyBits)
        }
        eat = delta
        var k = 0
        let b = try shinfoBuffer(self[skb])
        for i in 0..<Int(buffers[b].shinfo.nrFrags) {
            var frag = buffers[b].shinfo.frag(i)
            if mutated(.pullTailKeepsExactFrag) ? frag.size < UInt32(bitPattern: eat) : frag.size <= UInt32(bitPattern: eat) {
                try put_page(frag.page)
                eat = Int32(bitPattern: UInt32(bitPattern: eat) &- frag.size)
            } else {
                if eat != 0 {
                    frag.pageOffset &+= UInt32(bitPattern: eat)
                    frag.size &-= UInt32(bitPattern: eat)
                    eat = 0
                }
                update(buffer: b) { $0.shinfo.setFrag(k, frag) }
                k += 1
            }
        }
        update(buffer: b) { $0.shinfo.nrFrags = UInt16(truncatingIfNeeded: k) }
        update(skb) {
            $0.tail = R.add($0.tail, Int64(delta), mask: mask)
            $0.dataLen &-= UInt32(bitPattern: delta)
        }
        return skb_tail_pointer(skb)
    }

    /// pskb_may_pull: 1 when len <= headlen; 0 when len > skb->len; else whether __pskb_pull_tail
    /// succeeds.
    @inlinable
    public func pskb_may_pull(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Int32 {
        if len <= skb_headlen(skb) { return 1 }
        if len > self[skb].len { return 0 }
        return try __pskb_pull_tail(skb, Int32(bitPattern: len &- skb_headlen(skb))) != 0 ? 1 : 0
    }

    /// __pskb_pull: pull the missing bytes into the head first (NULL when that fails), then
    /// len -= len, data += len.
    @inlinable
    func __pskb_pull(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Address {
        if len > skb_headlen(skb), try __pskb_pull_tail(skb, Int32(bitPattern: len &- skb_headlen(skb))) == 0 { return 0 }
        update(skb) {
            $0.len &-= len
            $0.data = ($0.data &+ UInt64(len)) & mask
        }
        return self[skb].data
    }

    /// pskb_pull: NULL when len > skb->len, else __pskb_pull.
    @inlinable
    public func pskb_pull(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Address {
        len > self[skb].len ? 0 : try __pskb_pull(skb, len)
    }

    /// skb_linearize: 0 for a linear skb, else __skb_linearize: __pskb_pull_tail(data_len), 0 or -ENOMEM.
    @inlinable
    public func skb_linearize(_ skb: SKB) throws(KernelStop) -> Int32 {
        guard self[skb].dataLen != 0 else { return 0 }
        return try __pskb_pull_tail(skb, Int32(bitPattern: self[skb].dataLen)) != 0 ? 0 : Kernel.ENOMEM
    }

    /// ___pskb_trim: expand first when cloned (its error returned); keep the frags that end before len
    /// (unsigned comparisons), cut the one len falls in (or ends at) to end at len, put_page the rest
    /// and set nr_frags; then len = len and data_len shrinks by what was cut, or, when len <= headlen,
    /// data_len = 0 and tail = data + len.
    @inlinable
    func ___pskb_trim(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Int32 {
        var offset = Int32(bitPattern: skb_headlen(skb))
        let nfrags = Int(try shinfo(skb).nrFrags)
        if try skb_cloned(skb) != 0 {
            let err = try pskb_expand_head(skb, 0, 0)
            if err != 0 { return err }
        }
        let b = try shinfoBuffer(self[skb])
        var i = 0
        // `goto drop_pages` when the head already holds len bytes; else find the frag len ends in.
        var drop = UInt32(bitPattern: offset) >= len
        while !drop && i < nfrags {
            let end = Int32(bitPattern: UInt32(bitPattern: offset) &+ buffers[b].shinfo.frag(i).size)
            if mutated(.trimEndLe) ? UInt32(bitPattern: end) <= len : UInt32(bitPattern: end) < len {
                offset = end
                i += 1
                continue
            }
            var frag = buffers[b].shinfo.frag(i)
            frag.size = len &- UInt32(bitPattern: offset)
            update(buffer: b) { $0.shinfo.setFrag(i, frag) }
            i += 1
            drop = true
        }
        if drop {
            update(buffer: b) { $0.shinfo.nrFrags = UInt16(truncatingIfNeeded: i) }
            while i < nfrags {
                try put_page(buffers[b].shinfo.frag(i).page)
                i += 1
            }
        }
        if len > skb_headlen(skb) {
            update(skb) {
                $0.dataLen &-= $0.len &- len
                $0.len = len
            }
        } else {
            update(skb) {
                $0.len = len
                $0.dataLen = 0
            }
            skb_set_tail_pointer(skb, Int32(bitPattern: len))
        }
        return 0
    }

    /// pskb_trim: when len < skb->len, __pskb_trim: ___pskb_trim when nonlinear, else __skb_trim and 0.
    @inlinable
    public func pskb_trim(_ skb: SKB, _ len: UInt32) throws(KernelStop) -> Int32 {
        guard len < self[skb].len else { return 0 }
        if self[skb].dataLen != 0 { return try ___pskb_trim(skb, len) }
        __skb_trim(skb, len)
        return 0
    }

    /// The skb_copy_bits operation: skb_copy_bits(skb, offset, buf, len) into a caller's buffer of len
    /// bytes (65536 when len is negative or larger); its error, or the digest of the bytes copied
    /// shifted right by 2 (never negative).
    @inlinable
    public func skb_copy_bits(_ skb: SKB, offset: Int32, len: Int32) throws(KernelStop) -> Int64 {
        let size = len >= 0 && len <= 65536 ? Int(len) : 65536
        if scratch.count < size { scratch = [UInt8](repeating: 0, count: size) }
        let err = try skb_copy_bits(skb, offset, to: .caller(0, size: Int64(size)), len)
        if err != 0 { return Int64(err) }
        return Int64(scratch.withUnsafeBytes { PacketBytes.digest(UnsafeRawBufferPointer(rebasing: $0[0..<Int(len)])) } >> 2)
    }

    // MARK: Fields drivers and the stack write directly (Specs/snapshot.md, "Driver writes")

    /// A driver's receive path (Specs/paged.md): a fresh page, its [offset, offset + size) described in
    /// frags[nr_frags], and len, data_len and truesize += size (as e1000's). The driver's own checks:
    /// -EMSGSIZE when frags[] is full, -EINVAL when the range leaves the page; -ENOMEM when alloc_page
    /// fails. The harness names the page `id`: 1 + the index of the call in its sequence.
    @inlinable
    public func add_frag(_ skb: SKB, offset: UInt32, size: UInt32, page id: UInt32) throws(KernelStop) -> Int32 {
        let nr = try shinfo(skb).nrFrags
        if nr >= Kernel.maxSkbFrags { return -90 }
        if offset > Kernel.pageSize || size > Kernel.pageSize - offset { return -22 }
        guard let page = alloc_page(id: id) else { return Kernel.ENOMEM }
        try skb_fill_page_desc(skb, Int(nr), page: page, offset, size)
        update(skb) {
            $0.len &+= size
            $0.dataLen &+= size
            $0.truesize &+= size
        }
        return 0
    }

    /// A driver's checksum bookkeeping: the csum union as one word, and ip_summed (a 2-bit field, so
    /// the value is taken modulo 4 as C's assignment to it does).
    @inlinable
    public func set_csum(_ skb: SKB, _ csum: UInt32, _ ipSummed: UInt32) {
        update(skb) {
            $0.csum = csum
            $0.ipSummed = UInt8(ipSummed & 3)
        }
    }

    /// netif_receive_skb's bookkeeping: mac_len, a __u16.
    @inlinable
    public func set_mac_len(_ skb: SKB, _ macLen: UInt32) {
        update(skb) { $0.macLen = UInt16(truncatingIfNeeded: macLen) }
    }

    /// A driver's GSO bookkeeping: skb_shinfo(skb)->gso_size and gso_segs, unsigned shorts.
    @inlinable
    public func set_gso(_ skb: SKB, _ size: UInt32, _ segs: UInt32) throws(KernelStop) {
        let b = try shinfoBuffer(self[skb])
        update(buffer: b) {
            $0.shinfo.gsoSize = UInt16(truncatingIfNeeded: size)
            $0.shinfo.gsoSegs = UInt16(truncatingIfNeeded: segs)
        }
    }

    /// skb_shinfo(skb)->gso_type, an unsigned short.
    @inlinable
    public func set_gso_type(_ skb: SKB, _ type: UInt32) throws(KernelStop) {
        let b = try shinfoBuffer(self[skb])
        update(buffer: b) { $0.shinfo.gsoType = UInt16(truncatingIfNeeded: type) }
    }

    /// IPv6 fragmentation's bookkeeping: skb_shinfo(skb)->ip6_frag_id.
    @inlinable
    public func set_ip6_frag_id(_ skb: SKB, _ id: UInt32) throws(KernelStop) {
        let b = try shinfoBuffer(self[skb])
        update(buffer: b) { $0.shinfo.ip6FragId = id }
    }

    // MARK: The snapshot (Specs/snapshot.md)

    /// What an skb shares with others: its data buffer (-1: none) and its fclone pair (the slab
    /// object of the pair's first sk_buff; an skb outside a pair is a pair of its own). Two skbs with
    /// the same buffer share skb_shinfo and its dataref; two of one pair share fclone_ref.
    @inlinable
    public func sharing(_ skb: SKB) -> (buffer: Int32, pair: Int32) {
        let s = self[skb]
        return (s.buffer, s.fclone == .clone ? skb.index - 1 : skb.index)
    }


    /// The observable state of an skb (Specs/snapshot.md), from its fields, its buffer and the pages.
    @inlinable
    public func state(_ skb: SKB) -> SKBState { state(skb) { _, _, _, bytes in PacketBytes.digest(bytes) } }

    /// The same, with the digest of [data, tail) taken by `digest`, given the buffer, data, tail and
    /// those bytes (an engine may answer it from a cache: SwiftImplementation).
    @inlinable
    public func state(_ skb: SKB, digest linear: (Int32, Int64, Int64, UnsafeRawBufferPointer) -> UInt64) -> SKBState {
        let s = self[skb]
        let data = dataOffset(s)
        let tail = tailOffset(s)
        let end = endOffset(s)
        let upper = (R.pointer(s.end, head: s.head, mask: mask) &+ UInt64(shinfoSize)) & mask
        func position(_ h: R.Stored) -> HeaderPosition {
            if !R.usesOffset && h == 0 { return .unset }
            let p = R.pointer(h, head: s.head, mask: mask)
            return p >= s.head && p < upper ? .offset(Int64(p &- s.head)) : .wild
        }
        var digest: UInt64?
        if 0 <= data && data <= tail && tail <= end, s.buffer >= 0, tail <= Int64(buffers[Int(s.buffer)].size) {
            touch(s.buffer, Int(data)..<Int(tail), writes: false)
            digest = linear(s.buffer, data, tail, UnsafeRawBufferPointer(rebasing: bytes(s.buffer)[Int(data)..<Int(tail)]))
        }
        let shinfo = (try? shinfoBuffer(s)).map { buffers[$0].shinfo } ?? SharedInfo()
        var state = SKBState(
            data: data, tail: tail, end: end, len: s.len, dataLen: s.dataLen, truesize: s.truesize,
            headroom: UInt32(truncatingIfNeeded: s.data &- s.head),
            tailroom: s.dataLen != 0 ? 0 : Int32(truncatingIfNeeded: s.end &- s.tail),
            users: UInt32(bitPattern: s.users), dataref: UInt32(bitPattern: shinfo.dataref), cloned: s.cloned, nohdr: s.nohdr,
            fclone: s.fclone, mac: position(s.macHeader), network: position(s.networkHeader),
            transport: position(s.transportHeader), digest: digest)
        state.csum = s.csum
        state.ipSummed = s.ipSummed
        state.hdrLen = s.hdrLen
        state.macLen = s.macLen
        state.nrFrags = shinfo.nrFrags
        state.gsoSize = shinfo.gsoSize
        state.gsoSegs = shinfo.gsoSegs
        state.gsoType = shinfo.gsoType
        state.ip6FragId = shinfo.ip6FragId
        state.fragsDigest = fragsDigest(shinfo)
        state.packetDigest = packetDigest(s, shinfo, data: data, end: end)
        return state
    }

    /// Of nr_frags records {page id, page_offset, size, page count}, a page no longer live as id and
    /// count ~0 (Specs/paged.md); 0 without frags.
    @inlinable
    func fragsDigest(_ shinfo: SharedInfo) -> UInt64 {
        let n = min(Int(shinfo.nrFrags), Int(Kernel.maxSkbFrags))
        guard n > 0 else { return 0 }
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 4 * n) { records in
            for i in 0..<n {
                let f = shinfo.frag(i)
                let page = livePageIndex(f.page)
                records[4 * i] = page != nil ? f.page : ~0
                records[4 * i + 1] = f.pageOffset
                records[4 * i + 2] = f.size
                records[4 * i + 3] = page.map { UInt32(bitPattern: pages[$0].count) } ?? ~0
            }
            return PacketBytes.digest(UnsafeRawBufferPointer(records))
        }
    }

    /// Of the len bytes skb_copy_bits(skb, 0, buf, len) copies, when the skb is nonlinear and that copy
    /// stays inside the head and live pages; else 0 (Specs/paged.md).
    @inlinable
    func packetDigest(_ s: SKBuff<R>, _ shinfo: SharedInfo, data: Int64, end: Int64) -> UInt64 {
        guard s.dataLen != 0, s.dataLen <= s.len else { return 0 }
        let len = Int(s.len)
        let headlen = Int(s.len - s.dataLen)
        if headlen > 0 {
            guard data >= 0, data + Int64(headlen) <= end, s.buffer >= 0, buffers[Int(s.buffer)].live,
                  end <= Int64(buffers[Int(s.buffer)].size) else { return 0 }
        }
        if scratch.count < len { scratch = [UInt8](repeating: 0, count: len) }
        if headlen > 0 {
            touch(s.buffer, Int(data)..<(Int(data) + headlen), writes: false)
            let from = UnsafeRawPointer(arena + buffers[Int(s.buffer)].offset + Int(data))
            scratch.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: from, byteCount: headlen) }
        }
        var copied = headlen
        var i = 0
        while i < min(Int(shinfo.nrFrags), Int(Kernel.maxSkbFrags)) && copied < len {
            let f = shinfo.frag(i)
            let take = min(len - copied, Int(f.size))
            i += 1
            if take == 0 { continue }
            guard let page = livePageIndex(f.page), f.pageOffset <= Kernel.pageSize,
                  take <= Int(Kernel.pageSize - f.pageOffset) else { return 0 }
            let at = copied
            pages[page].bytes.withUnsafeBytes { p in
                scratch.withUnsafeMutableBytes { ($0.baseAddress! + at).copyMemory(from: p.baseAddress! + Int(f.pageOffset), byteCount: take) }
            }
            copied += take
        }
        guard copied == len else { return 0 }
        return scratch.withUnsafeBytes { PacketBytes.digest(UnsafeRawBufferPointer(rebasing: $0[0..<len])) }
    }

    /// The data buffer an skb points into (-1: none), as MemoryObserver names it.
    @inlinable
    public func buffer(of skb: SKB) -> Int32 { slots[Int(skb.index)].skb.buffer }

    /// nr_frags != 0 in the skb's shared info (where it belongs).
    @inlinable
    public func hasFrags(_ skb: SKB) -> Bool {
        guard let b = try? shinfoBuffer(self[skb]) else { return false }
        return buffers[b].shinfo.nrFrags != 0
    }

    /// The frag descriptors (page id, offset, size) and each page's count, for tests and reports.
    public func frags(_ skb: SKB) -> [(frag: SkbFrag, count: Int32?)] {
        guard let shinfo = try? shinfo(skb) else { return [] }
        return (0..<Int(shinfo.nrFrags)).map { i in
            let f = shinfo.frag(i)
            return (f, livePageIndex(f.page).map { pages[$0].count })
        }
    }

    /// The bytes [data, tail), for tests and reports (empty when the range is not inside the buffer).
    @inlinable
    public func packetBytes(_ skb: SKB) -> [UInt8] {
        let s = self[skb]
        let data = dataOffset(s), tail = tailOffset(s)
        guard s.buffer >= 0, 0 <= data, data <= tail, tail <= Int64(buffers[Int(s.buffer)].size) else { return [] }
        touch(s.buffer, Int(data)..<Int(tail), writes: false)
        return Array(bytes(s.buffer)[Int(data)..<Int(tail)])
    }
}
