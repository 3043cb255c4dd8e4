/// A handle on a struct sk_buff in a `Kernel`: the index of its slab object.
public struct SKB: Hashable, Sendable, CustomStringConvertible {
    public let index: Int32
    public var description: String { "sk_buff#\(index)" }

    @inlinable init(index: Int32) { self.index = index }
}

/// The fields of a 2.6.24 struct sk_buff that the modelled helpers read or write. head and data
/// are always pointers; the five sk_buff_data_t fields are `R.Stored`.
public struct SKBuff<R: DataRepresentation>: Sendable {
    public var len: UInt32 = 0
    public var dataLen: UInt32 = 0
    public var macLen: UInt16 = 0
    public var hdrLen: UInt16 = 0
    /// The union { __wsum csum; struct { __u16 csum_start, csum_offset; } }, little endian.
    public var csum: UInt32 = 0
    public var ipSummed: UInt8 = 0
    public var cloned = false
    public var nohdr = false
    public var fclone: FcloneState = .unavailable
    public var transportHeader: R.Stored = 0
    public var networkHeader: R.Stored = 0
    public var macHeader: R.Stored = 0
    public var tail: R.Stored = 0
    public var end: R.Stored = 0
    public var head: Address = 0
    public var data: Address = 0
    public var truesize: UInt32 = 0
    public var users: Int32 = 0
    /// The data allocation head points into (-1: none yet).
    @usableFromInline var buffer: Int32 = -1

    /// csum_start is the low half of the csum union on little endian (quirk 4 adds to it without carry).
    @inlinable public var csumStart: UInt16 {
        get { UInt16(truncatingIfNeeded: csum) }
        set { csum = (csum & 0xFFFF_0000) | UInt32(newValue) }
    }

    /// The fields __alloc_skb's memset clears (everything before tail), as a fresh head-cache object.
    @inlinable init() {}
}

/// struct skb_shared_info, minus frags (paged data is out of scope: nr_frags stays 0).
public struct SharedInfo: Hashable, Sendable {
    @inlinable public init(dataref: Int32 = 0) { self.dataref = dataref }

    public var dataref: Int32 = 0
    public var nrFrags: UInt16 = 0
    public var gsoSize: UInt16 = 0
    public var gsoSegs: UInt16 = 0
    public var gsoType: UInt16 = 0
    public var ip6FragId: UInt32 = 0
}

/// A kmalloc or kmem_cache object that holds packet data and, at head + end, the shared info.
@usableFromInline
struct Buffer {
    @usableFromInline var base: Address
    @usableFromInline var bytes: [UInt8]
    /// Where the struct skb_shared_info was written, as an offset from base (-1: nowhere yet).
    @usableFromInline var shinfoAt: Int64 = -1
    @usableFromInline var shinfo = SharedInfo()
    @usableFromInline var live = true
    /// Changes whenever a byte of the buffer is written, so cached digests know when they are stale.
    @usableFromInline var version: UInt64 = 0

    @inlinable init(base: Address, bytes: [UInt8]) {
        self.base = base
        self.bytes = bytes
    }
}

/// A slab object holding a struct sk_buff. An fclone object is two consecutive slots; the first
/// carries the pair's fclone_ref, the atomic_t after the second sk_buff.
@usableFromInline
struct HeadSlot<R: DataRepresentation> {
    @usableFromInline var skb = SKBuff<R>()
    @usableFromInline var live = true
    @usableFromInline var fcloneRef: Int32 = 0
    /// The digest of [data, tail) last computed, and what it was computed from.
    @usableFromInline var digest: UInt64 = 0
    @usableFromInline var digestKey = DigestKey(buffer: -1, version: 0, data: 0, tail: 0)

    @inlinable init() {}
}

/// What a cached digest of [data, tail) depends on.
@usableFromInline
struct DigestKey: Equatable {
    @usableFromInline var buffer: Int32
    @usableFromInline var version: UInt64
    @usableFromInline var data: Int64
    @usableFromInline var tail: Int64

    @inlinable init(buffer: Int32, version: UInt64, data: Int64, tail: Int64) {
        self.buffer = buffer
        self.version = version
        self.data = data
        self.tail = tail
    }
}

/// The 2.6.24 socket-buffer helpers over a simulated slab and kmalloc, for one target and one
/// sk_buff_data_t representation. Each helper is named after its kernel twin and says which
/// behaviour it reproduces; a BUG(), skb_over_panic or skb_under_panic throws `KernelStop` with the
/// skb left exactly as the kernel left it (spec section 8).
public final class Kernel<R: DataRepresentation> {
    public let target: Target
    public let sizing: Sizing
    @usableFromInline let arch: Arch
    @usableFromInline let mask: Address
    @usableFromInline let shinfoSize: Int64
    @usableFromInline var slots: [HeadSlot<R>] = []
    @usableFromInline var buffers: [Buffer] = []
    @usableFromInline var nextAddress: Address
    /// Numbers every write to a buffer (never reset, so a cached digest cannot match a later buffer).
    @usableFromInline var writes: UInt64 = 0

    /// NET_SKB_PAD (include/linux/skbuff.h).
    @inlinable
    public static var netSkbPad: UInt32 { 16 }
    /// KMALLOC_MAX_SIZE with MAX_ORDER 11 and 4 KiB pages (spec section 8).
    @inlinable
    public static var kmallocMaxSize: UInt64 { 4 << 20 }
    /// The simulated data arena: kmalloc fails once a sequence has used this much.
    @inlinable
    public static var arenaSize: UInt64 { 512 << 20 }
    @inlinable
    public static var ENOMEM: Int32 { -12 }
    @inlinable
    public static var EFAULT: Int32 { -14 }

    public init(target: Target) {
        self.target = target
        self.sizing = Sizing(target: target, representation: R.kind)
        self.arch = target.arch
        self.mask = target.arch.addressMask
        self.shinfoSize = Int64(sizing.sharedInfo)
        self.nextAddress = target.arch.pageOffset
    }

    /// Forget every object: the next sequence starts from an empty slab.
    @inlinable
    public func reset() {
        slots.removeAll(keepingCapacity: true)
        buffers.removeAll(keepingCapacity: true)
        nextAddress = arch.pageOffset
    }

    @inlinable
    public subscript(skb: SKB) -> SKBuff<R> { slots[Int(skb.index)].skb }

    @inlinable
    public func isLive(_ skb: SKB) -> Bool { slots[Int(skb.index)].live }

    /// Live sk_buff objects and live data buffers, for leak tests.
    @inlinable
    public var liveObjects: (heads: Int, buffers: Int) {
        (slots.lazy.filter(\.live).count, buffers.lazy.filter(\.live).count)
    }

    // MARK: Kernel services: slab, kmalloc, checked memory

    /// kmem_cache_alloc from skbuff_head_cache (count 1) or skbuff_fclone_cache (count 2).
    @inlinable
    func kmemCacheAlloc(count: Int) -> SKB {
        let index = Int32(slots.count)
        for _ in 0..<count { slots.append(HeadSlot()) }
        return SKB(index: index)
    }

    @inlinable
    func kmemCacheFree(_ skb: SKB, count: Int) throws(KernelStop) {
        for i in Int(skb.index)..<(Int(skb.index) + count) {
            guard slots[i].live else { throw .bug(.badFree) }
            slots[i].live = false
        }
    }

    /// kmalloc (or a cache object) of `size` bytes, zero-filled; nil above KMALLOC_MAX_SIZE or when
    /// the world's data arena is used up. Addresses grow by the size rounded up to 64 and are never
    /// reused within a sequence, as in the C reference's arena (Specs/snapshot.md).
    @inlinable
    func kmalloc(_ size: UInt64) -> Int32? {
        guard size <= Kernel.kmallocMaxSize, nextAddress - arch.pageOffset + size <= Kernel.arenaSize else { return nil }
        let base = nextAddress
        nextAddress = (base &+ size &+ 63) & ~63 & mask
        writes &+= 1
        var buffer = Buffer(base: base, bytes: [UInt8](repeating: 0, count: Int(size)))
        buffer.version = writes
        buffers.append(buffer)
        return Int32(buffers.count - 1)
    }

    @inlinable
    func kfree(_ buffer: Int32) throws(KernelStop) {
        guard buffer >= 0, buffers[Int(buffer)].live else { throw .bug(.badFree) }
        buffers[Int(buffer)].live = false
        buffers[Int(buffer)].bytes = []
    }

    /// The byte range [start, start + count) of a buffer's data area [0, limit), or `overflow`
    /// before anything is touched (Specs/snapshot.md, "Bytes"). count is a size_t.
    @inlinable
    func checkedRange(_ buffer: Int32, start: Int64, count: UInt64, limit: Int64) throws(KernelStop) -> Range<Int> {
        if count == 0 { return 0..<0 }
        guard buffer >= 0, buffers[Int(buffer)].live else { throw .overflow }
        let size = Int64(buffers[Int(buffer)].bytes.count)
        guard start >= 0, count <= UInt64(Int64.max),
              limit <= size, start <= limit, Int64(count) <= limit - start
        else { throw .overflow }
        return Int(start)..<Int(start + Int64(count))
    }

    /// memcpy between data areas, checked on both sides.
    @inlinable
    func copyBytes(to dst: (buffer: Int32, start: Int64, limit: Int64),
                   from src: (buffer: Int32, start: Int64, limit: Int64), count: UInt64) throws(KernelStop) {
        let s = try checkedRange(src.buffer, start: src.start, count: count, limit: src.limit)
        let d = try checkedRange(dst.buffer, start: dst.start, count: count, limit: dst.limit)
        if s.isEmpty { return }
        writes &+= 1
        buffers[Int(dst.buffer)].version = writes
        if src.buffer == dst.buffer {
            let chunk = Array(buffers[Int(src.buffer)].bytes[s])
            buffers[Int(dst.buffer)].bytes.replaceSubrange(d, with: chunk)
        } else {
            buffers[Int(src.buffer)].bytes.withUnsafeBufferPointer { from in
                buffers[Int(dst.buffer)].bytes.withUnsafeMutableBufferPointer { to in
                    UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: to[d]))
                        .copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: from[s])))
                }
            }
        }
    }

    /// memset(p, 0, count) inside a data area.
    @inlinable
    func zeroBytes(_ buffer: Int32, start: Int64, count: UInt64, limit: Int64) throws(KernelStop) {
        let r = try checkedRange(buffer, start: start, count: count, limit: limit)
        writes &+= 1
        buffers[Int(buffer)].version = writes
        buffers[Int(buffer)].bytes.withUnsafeMutableBytes { b in
            _ = UnsafeMutableRawBufferPointer(rebasing: b[r]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    /// Write the put/push pattern (Specs/snapshot.md): byte k is (pattern * 157 + k) mod 256.
    @inlinable
    public func fillPattern(_ skb: SKB, start: Int64, count: UInt32, pattern: UInt32) throws(KernelStop) {
        let s = self[skb]
        let r = try checkedRange(s.buffer, start: start, count: UInt64(count), limit: endOffset(s))
        writes &+= 1
        buffers[Int(s.buffer)].version = writes
        buffers[Int(s.buffer)].bytes.withUnsafeMutableBytes { b in
            PacketBytes.fill(UnsafeMutableRawBufferPointer(rebasing: b[r]), pattern: pattern)
        }
    }

    /// skb_shinfo(skb): the struct skb_shared_info at head + end, which must be where one was written.
    @inlinable
    func shinfoBuffer(_ s: SKBuff<R>) throws(KernelStop) -> Int {
        guard s.buffer >= 0, buffers[Int(s.buffer)].live, buffers[Int(s.buffer)].shinfoAt == endOffset(s)
        else { throw .overflow }
        return Int(s.buffer)
    }

    @inlinable
    func shinfo(_ skb: SKB) throws(KernelStop) -> SharedInfo {
        buffers[try shinfoBuffer(self[skb])].shinfo
    }

    /// A pointer as an offset from the skb's head (a signed pointer difference).
    @inlinable
    public func offset(_ p: Address, in skb: SKB) -> Int64 { arch.signedDifference(p, self[skb].head) }

    /// The data, tail and end offsets from head, as the snapshot reports them.
    @inlinable
    public func offsets(_ skb: SKB) -> (data: Int64, tail: Int64, end: Int64) {
        let s = self[skb]
        return (dataOffset(s), tailOffset(s), endOffset(s))
    }

    /// Offsets from head, as the kernel's pointer (or offset) arithmetic gives them.
    @inlinable
    @inline(__always) func dataOffset(_ s: SKBuff<R>) -> Int64 { arch.signedDifference(s.data, s.head) }
    @inlinable
    @inline(__always) func tailOffset(_ s: SKBuff<R>) -> Int64 { R.offset(s.tail, head: s.head, arch: arch) }
    @inlinable
    @inline(__always) func endOffset(_ s: SKBuff<R>) -> Int64 { R.offset(s.end, head: s.head, arch: arch) }

    /// SKB_DATA_ALIGN on an `unsigned int` (wraps at 2^32).
    @inlinable
    @inline(__always) func SKB_DATA_ALIGN(_ x: UInt32) -> UInt32 { (x &+ (target.cacheLine - 1)) & ~(target.cacheLine - 1) }
    /// SKB_DATA_ALIGN on an `int`: the same bits in int arithmetic.
    @inlinable
    @inline(__always) func SKB_DATA_ALIGN(_ x: Int32) -> Int32 { Int32(bitPattern: SKB_DATA_ALIGN(UInt32(bitPattern: x))) }

    /// `size + sizeof(struct skb_shared_info)` as a size_t of the target.
    @inlinable
    @inline(__always) func withSharedInfo(_ size: Int64) -> UInt64 { (UInt64(bitPattern: size) &+ UInt64(shinfoSize)) & mask }

    @inlinable
    @inline(__always) func update(_ skb: SKB, _ body: (inout SKBuff<R>) -> Void) {
        body(&slots[Int(skb.index)].skb)
    }
}
