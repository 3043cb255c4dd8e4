#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A handle on a struct sk_buff in a `Kernel`: the index of its slab object.
public struct SKB: Hashable, Sendable, CustomStringConvertible {
    public let index: Int32
    public var description: String { "sk_buff#\(index)" }

    @inlinable init(index: Int32) { self.index = index }
}

/// The fields of a 2.6.24 struct sk_buff that the modelled helpers read or write. head and data
/// are always pointers; the five sk_buff_data_t fields are `R.Stored`.
public struct SKBuff<R: DataRepresentation>: Sendable {
    public var len: UInt32
    public var dataLen: UInt32
    public var macLen: UInt16
    public var hdrLen: UInt16
    /// The union { __wsum csum; struct { __u16 csum_start, csum_offset; } }, little endian.
    public var csum: UInt32
    public var ipSummed: UInt8
    public var cloned: Bool
    public var nohdr: Bool
    public var fclone: FcloneState
    public var transportHeader: R.Stored
    public var networkHeader: R.Stored
    public var macHeader: R.Stored
    public var tail: R.Stored
    public var end: R.Stored
    public var head: Address
    public var data: Address
    public var truesize: UInt32
    public var users: Int32
    /// The data allocation head points into (-1: none yet).
    @usableFromInline var buffer: Int32

    /// csum_start is the low half of the csum union on little endian (quirk 4 adds to it without carry).
    @inlinable public var csumStart: UInt16 {
        get { UInt16(truncatingIfNeeded: csum) }
        set { csum = (csum & 0xFFFF_0000) | UInt32(newValue) }
    }

    /// The fields __alloc_skb's memset clears (everything before tail), as a fresh head-cache object.
    /// Assigned here rather than as property defaults, which clients would call into this module for.
    @inlinable init() {
        len = 0
        dataLen = 0
        macLen = 0
        hdrLen = 0
        csum = 0
        ipSummed = 0
        cloned = false
        nohdr = false
        fclone = .unavailable
        transportHeader = 0
        networkHeader = 0
        macHeader = 0
        tail = 0
        end = 0
        head = 0
        data = 0
        truesize = 0
        users = 0
        buffer = -1
    }
}

/// struct skb_frag_struct: a page (its id), and the [pageOffset, pageOffset + size) of it that holds
/// packet data.
public struct SkbFrag: Hashable, Sendable {
    public var page: UInt32
    public var pageOffset: UInt32
    public var size: UInt32

    @inlinable public init(page: UInt32, pageOffset: UInt32, size: UInt32) {
        self.page = page
        self.pageOffset = pageOffset
        self.size = size
    }
}

/// struct skb_shared_info without frag_list (always NULL: Specs/paged.md).
public struct SharedInfo: Hashable, Sendable {
    @inlinable public init(dataref: Int32 = 0) {
        self.dataref = dataref
        nrFrags = 0
        gsoSize = 0
        gsoSegs = 0
        gsoType = 0
        ip6FragId = 0
        frags = []
    }

    public var dataref: Int32
    public var nrFrags: UInt16
    public var gsoSize: UInt16
    public var gsoSegs: UInt16
    public var gsoType: UInt16
    public var ip6FragId: UInt32
    /// frags[0..<count]: MAX_SKB_FRAGS entries in the kernel; only those ever written are held here,
    /// and only the first nrFrags are meaningful (entries past it may be stale, as in the kernel).
    public var frags: [SkbFrag]

    /// frags[i] as the kernel reads it: an entry never written reads as zero (page NULL).
    @inlinable public func frag(_ i: Int) -> SkbFrag { i < frags.count ? frags[i] : SkbFrag(page: 0, pageOffset: 0, size: 0) }

    /// frags[i], written as the kernel writes an array element.
    @inlinable mutating func setFrag(_ i: Int, _ f: SkbFrag) {
        while frags.count <= i { frags.append(SkbFrag(page: 0, pageOffset: 0, size: 0)) }
        frags[i] = f
    }
}

/// struct page as the paged helpers need it (Specs/paged.md): its id (1 + the index in the sequence of
/// the call that allocated it, so that OFF and PTR number their pages alike), the count get_page and
/// put_page move, and PAGE_SIZE bytes, the page pattern of its id.
@usableFromInline
struct Page {
    @usableFromInline var id: UInt32
    @usableFromInline var count: Int32
    @usableFromInline var live: Bool
    @usableFromInline var bytes: [UInt8]

    @inlinable init(id: UInt32) {
        self.id = id
        count = 1
        live = true
        bytes = PacketBytes.page(id)
    }
}

/// A kmalloc or kmem_cache object that holds packet data and, at head + end, the shared info. Its
/// bytes are [offset, offset + size) of the kernel's byte arena.
///
/// Fresh memory reads as zero, but the arena is not zeroed when an object is allocated: only
/// [0, lo) and [hi, size) hold bytes written or zeroed since; [lo, hi) is zero by definition and is
/// zeroed when an access first reaches into it (`Kernel.touch`), so the work follows the bytes used.
@usableFromInline
struct Buffer {
    @usableFromInline var base: Address
    @usableFromInline var offset: Int
    /// The object's size; 0 once it is freed.
    @usableFromInline var size: Int
    /// [lo, hi): not yet zeroed, reads as zero; lo == hi: every byte is real.
    @usableFromInline var lo: Int
    @usableFromInline var hi: Int
    /// Where the struct skb_shared_info was written, as an offset from base (-1: nowhere yet).
    @usableFromInline var shinfoAt: Int64
    @usableFromInline var shinfo: SharedInfo
    @usableFromInline var live: Bool

    @inlinable init(base: Address, offset: Int, size: Int) {
        self.base = base
        self.offset = offset
        self.size = size
        lo = 0
        hi = size
        shinfoAt = -1
        shinfo = SharedInfo()
        live = true
    }
}

/// Where a copy writes: a buffer's data area [0, limit) at an offset, or the caller's buffer of the
/// skb_copy_bits operation (`Kernel.scratch`, `size` bytes) at an offset.
@usableFromInline
enum CopyDestination {
    case buffer(Int32, Int64, limit: Int64)
    case caller(Int64, size: Int64)

    @inlinable func advanced(by n: Int32) -> CopyDestination {
        switch self {
        case let .buffer(buffer, at, limit): return .buffer(buffer, at + Int64(n), limit: limit)
        case let .caller(at, size): return .caller(at + Int64(n), size: size)
        }
    }
}

/// Where a copy reads: a buffer's data area [0, limit) at an offset, or a page (its index in
/// `Kernel.pages`) at an offset.
@usableFromInline
enum CopySource {
    case buffer(Int32, Int64, limit: Int64)
    case page(Int, Int64)
}

/// A slab object holding a struct sk_buff. An fclone object is two consecutive slots; the first
/// carries the pair's fclone_ref, the atomic_t after the second sk_buff.
@usableFromInline
struct HeadSlot<R: DataRepresentation> {
    @usableFromInline var skb: SKBuff<R>
    @usableFromInline var live: Bool
    @usableFromInline var fcloneRef: Int32

    /// Initial values are assigned here, not as property defaults, which clients would call into
    /// this module for.
    @inlinable init() {
        skb = SKBuff<R>()
        live = true
        fcloneRef = 0
    }
}

/// Told of every change to the model's memory, as it happens: an sk_buff head's fields or its slab
/// slot's life, a data buffer's shared info, placement or life, its bytes, and the pages. An
/// engine keeps its caches by it (SKBDiff's SwiftImplementation); the model keeps nothing for them.
public protocol MemoryObserver: AnyObject {
    func headChanged(slot: Int32)
    func bufferChanged(buffer: Int32)
    func bytesWritten(buffer: Int32)
    func pagesChanged()
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
    /// The pages of the sequence, in the order allocated (Specs/paged.md).
    @usableFromInline var pages: [Page] = [] { didSet { observer?.pagesChanged() } }
    /// Told of byte writes and page changes (nil: nobody).
    public unowned(unsafe) var observer: MemoryObserver?
    /// The caller's buffer of the skb_copy_bits operation, and the snapshot's copy of a nonlinear packet.
    @usableFromInline var scratch: [UInt8] = []
    @usableFromInline var nextAddress: Address
    /// The fault switched on, if any (`Mutation`); nil runs the helpers as the kernel has them.
    public var mutation: Mutation?
    /// Allocation-failure injection: when not 0, the allocation (kmalloc or kmem_cache_alloc) that
    /// brings it down to 0 fails. Counted before anything else an allocation checks. The harness
    /// sets it for one call (fail_next_alloc) and clears it after.
    public var failCountdown: UInt32 = 0
    /// The bytes of every buffer of the sequence, bump-allocated as the simulated addresses are (an
    /// object at address a is at arena offset a - PAGE_OFFSET). Reserved whole (arenaSize, address space
    /// only) and never moved: a page is memory once a byte of it is written.
    @usableFromInline let arena: UnsafeMutableRawPointer
    /// Pages of the arena a reset keeps; above this the used part is handed back, so what stays resident
    /// does not grow with the largest sequence seen (as in the C reference).
    @inlinable
    static var arenaKeep: Int { 512 << 10 }

    /// NET_SKB_PAD (include/linux/skbuff.h).
    @inlinable
    public static var netSkbPad: UInt32 { 16 }
    /// KMALLOC_MAX_SIZE with MAX_ORDER 11 and 4 KiB pages (spec section 8).
    @inlinable
    public static var kmallocMaxSize: UInt64 { 4 << 20 }
    /// The simulated data arena: kmalloc fails once a sequence has used this much.
    @inlinable
    public static var arenaSize: UInt64 { 512 << 20 }
    /// PAGE_SIZE and MAX_SKB_FRAGS (65536 / PAGE_SIZE + 2) on every modelled target.
    @inlinable
    public static var pageSize: UInt32 { 4096 }
    @inlinable
    public static var maxSkbFrags: UInt16 { 18 }
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
        arena = ArenaPool.take()
    }

    deinit {
        reset()
        ArenaPool.give(arena)
    }

    /// Forget every object: the next sequence starts from an empty slab.
    @inlinable
    /// Specialised: generically, emptying the arrays looks their element types up on every call.
    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    public func reset() {
        failCountdown = 0
        slots.removeAll(keepingCapacity: true)
        buffers.removeAll(keepingCapacity: true)
        if !pages.isEmpty { pages.removeAll(keepingCapacity: true) }
        let used = Int(nextAddress &- arch.pageOffset)
        nextAddress = arch.pageOffset
        if used > Kernel.arenaKeep {
            // Buffers are zeroed as they are used (`touch`), so the dropped pages' contents never matter.
            madvise(arena + Kernel.arenaKeep, (used - Kernel.arenaKeep + 4095) & ~4095, MADV_DONTNEED)
        }
    }

    /// A buffer's bytes.
    @inlinable
    func bytes(_ buffer: Int32) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: arena + buffers[Int(buffer)].offset, count: buffers[Int(buffer)].size)
    }

    @inlinable
    public subscript(skb: SKB) -> SKBuff<R> { slots[Int(skb.index)].skb }

    @inlinable
    public func isLive(_ skb: SKB) -> Bool { slots[Int(skb.index)].live }

    /// Live sk_buff objects, live data buffers and live pages, for leak tests.
    @inlinable
    /// Plain loops: a key path here (`filter(\.live)`) is instantiated at run time on every call,
    /// which cost 8% of a campaign's instructions (the check runs after every sequence).
    public var liveObjects: (heads: Int, buffers: Int, pages: Int) {
        var heads = 0, live = 0, livePages = 0
        for i in slots.indices where slots[i].live { heads += 1 }
        for i in buffers.indices where buffers[i].live { live += 1 }
        for i in pages.indices where pages[i].live { livePages += 1 }
        return (heads, live, livePages)
    }

    // MARK: Kernel services: slab, kmalloc, checked memory

    /// This allocation is the one injected to fail (`failCountdown`).
    @inlinable
    func allocationFails() -> Bool {
        guard failCountdown != 0 else { return false }
        failCountdown -= 1
        return failCountdown == 0
    }

    /// kmem_cache_alloc from skbuff_head_cache (count 1) or skbuff_fclone_cache (count 2); nil when
    /// the allocation is injected to fail.
    @inlinable
    func kmemCacheAlloc(count: Int) -> SKB? {
        if allocationFails() { return nil }
        let index = Int32(slots.count)
        for k in 0..<count {
            slots.append(HeadSlot())
            observer?.headChanged(slot: index + Int32(k))
        }
        return SKB(index: index)
    }

    @inlinable
    func kmemCacheFree(_ skb: SKB, count: Int) throws(KernelStop) {
        for i in Int(skb.index)..<(Int(skb.index) + count) {
            guard slots[i].live else { throw .bug(.badFree) }
            slots[i].live = false
            observer?.headChanged(slot: Int32(i))
        }
    }

    /// kmalloc (or a cache object) of `size` bytes, reading as zero (`touch` zeroes them as they are
    /// used); nil above KMALLOC_MAX_SIZE or when the world's data arena is used up. Addresses grow by
    /// the size rounded up to 64 and are never reused within a sequence, as in the C reference's
    /// arena (Specs/snapshot.md).
    @inlinable
    func kmalloc(_ size: UInt64) -> Int32? {
        if allocationFails() { return nil }
        guard size <= Kernel.kmallocMaxSize, nextAddress - arch.pageOffset + size <= Kernel.arenaSize else { return nil }
        let base = nextAddress
        let offset = Int(base &- arch.pageOffset)
        nextAddress = (base &+ size &+ 63) & ~63 & mask
        buffers.append(Buffer(base: base, offset: offset, size: Int(size)))
        let index = Int32(buffers.count - 1)
        observer?.bufferChanged(buffer: index)
        observer?.bytesWritten(buffer: index)
        return index
    }

    @inlinable
    func kfree(_ buffer: Int32) throws(KernelStop) {
        guard buffer >= 0, buffers[Int(buffer)].live else { throw .bug(.badFree) }
        update(buffer: buffer) {
            $0.live = false
            $0.size = 0
        }
    }

    /// The byte range [start, start + count) of a buffer's data area [0, limit), or `overflow`
    /// before anything is touched (Specs/snapshot.md, "Bytes"). count is a size_t.
    @inlinable
    func checkedRange(_ buffer: Int32, start: Int64, count: UInt64, limit: Int64) throws(KernelStop) -> Range<Int> {
        if count == 0 { return 0..<0 }
        guard buffer >= 0, buffers[Int(buffer)].live else { throw .overflow }
        let size = Int64(buffers[Int(buffer)].size)
        guard start >= 0, count <= UInt64(Int64.max),
              limit <= size, start <= limit, Int64(count) <= limit - start
        else { throw .overflow }
        return Int(start)..<Int(start + Int64(count))
    }

    /// Make [r) of a buffer real before it is accessed: zero the part of it in [lo, hi), unless
    /// `writes` says the access overwrites all of it, extending whichever side costs fewer bytes
    /// (as skbref_world_touch in the C reference).
    @inlinable
    func touch(_ buffer: Int32, _ r: Range<Int>, writes: Bool) {
        let b = Int(buffer)
        let lo = buffers[b].lo, hi = buffers[b].hi
        if lo == hi || r.upperBound <= lo || r.lowerBound >= hi { return }
        let base = arena + buffers[b].offset
        if r.upperBound - lo <= hi - r.lowerBound {
            let to = min(r.upperBound, hi)
            let zeroTo = writes ? max(lo, r.lowerBound) : to
            (base + lo).initializeMemory(as: UInt8.self, repeating: 0, count: zeroTo - lo)
            buffers[b].lo = to
        } else {
            let from = max(r.lowerBound, lo)
            let zeroFrom = writes ? min(hi, r.upperBound) : from
            (base + zeroFrom).initializeMemory(as: UInt8.self, repeating: 0, count: hi - zeroFrom)
            buffers[b].hi = from
        }
    }

    /// memcpy, checked on both sides (the source first, as the C reference checks them) before a byte
    /// moves: from a data area or a page, to a data area or the caller's buffer of skb_copy_bits.
    @inlinable
    func copyBytes(to dst: CopyDestination, from src: CopySource, count: UInt64) throws(KernelStop) {
        if count == 0 { return }
        var source = 0..<0
        switch src {
        case let .buffer(buffer, start, limit):
            source = try checkedRange(buffer, start: start, count: count, limit: limit)
            touch(buffer, source, writes: false)
        case let .page(_, at):
            guard at >= 0, at <= Int64(Kernel.pageSize), count <= UInt64(Int64(Kernel.pageSize) - at) else { throw .overflow }
            source = Int(at)..<(Int(at) + Int(count))
        }
        var target = 0..<0
        switch dst {
        case let .buffer(buffer, at, limit):
            target = try checkedRange(buffer, start: at, count: count, limit: limit)
            touch(buffer, target, writes: true)
            observer?.bytesWritten(buffer: buffer)
        case let .caller(at, size):
            guard at >= 0, at <= size, count <= UInt64(size - at) else { throw .overflow }
            target = Int(at)..<(Int(at) + Int(count))
        }
        // memmove: a copy within one buffer may overlap.
        func move(_ from: UnsafeRawPointer) {
            switch dst {
            case let .buffer(buffer, _, _):
                memmove(arena + buffers[Int(buffer)].offset + target.lowerBound, from, target.count)
            case .caller:
                scratch.withUnsafeMutableBytes { _ = memmove($0.baseAddress! + target.lowerBound, from, target.count) }
            }
        }
        switch src {
        case let .buffer(buffer, _, _):
            move(UnsafeRawPointer(arena + buffers[Int(buffer)].offset + source.lowerBound))
        case let .page(page, _):
            let bytes = pages[page].bytes
            bytes.withUnsafeBytes { move($0.baseAddress! + source.lowerBound) }
        }
    }

    /// memset(p, 0, count) inside a data area.
    @inlinable
    func zeroBytes(_ buffer: Int32, start: Int64, count: UInt64, limit: Int64) throws(KernelStop) {
        let r = try checkedRange(buffer, start: start, count: count, limit: limit)
        touch(buffer, r, writes: true)
        observer?.bytesWritten(buffer: buffer)
        _ = UnsafeMutableRawBufferPointer(rebasing: bytes(buffer)[r]).initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// Write the put/push pattern (Specs/snapshot.md): byte k is (pattern * 157 + k) mod 256.
    @inlinable
    public func fillPattern(_ skb: SKB, start: Int64, count: UInt32, pattern: UInt32) throws(KernelStop) {
        let s = self[skb]
        let r = try checkedRange(s.buffer, start: start, count: UInt64(count), limit: endOffset(s))
        touch(s.buffer, r, writes: true)
        observer?.bytesWritten(buffer: s.buffer)
        PacketBytes.fill(UnsafeMutableRawBufferPointer(rebasing: bytes(s.buffer)[r]), pattern: pattern)
    }

    // MARK: Pages (Specs/paged.md)

    /// alloc_page: a fresh page `id`, count 1, holding the page pattern; nil when the allocation is
    /// injected to fail (it counts as an allocation, as kmalloc does).
    @inlinable
    func alloc_page(id: UInt32) -> UInt32? {
        if allocationFails() { return nil }
        pages.append(Page(id: id))
        return id
    }

    /// The index in `pages` of the live page with this id, if there is one.
    @inlinable
    func livePageIndex(_ id: UInt32) -> Int? {
        guard id != 0 else { return nil }
        for i in pages.indices where pages[i].id == id && pages[i].live { return i }
        return nil
    }

    /// The page with this id, which must be live: else the kernel would touch freed memory (overflow).
    @inlinable
    func livePage(_ id: UInt32) throws(KernelStop) -> Int {
        guard let i = livePageIndex(id) else { throw .overflow }
        return i
    }

    /// get_page: count++.
    @inlinable
    func get_page(_ id: UInt32) throws(KernelStop) {
        pages[try livePage(id)].count &+= 1
    }

    /// put_page: count--; the page is freed at 0.
    @inlinable
    func put_page(_ id: UInt32) throws(KernelStop) {
        let i = try livePage(id)
        pages[i].count &-= 1
        if pages[i].count == 0 { pages[i].live = false }
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
    @inline(__always) func SKB_DATA_ALIGN(_ x: UInt32) -> UInt32 {
        (x &+ (target.cacheLine - (mutated(.alignPlusOne) ? 0 : 1))) & ~(target.cacheLine - 1)
    }

    /// The fault `m` is switched on.
    @inlinable
    @inline(__always) func mutated(_ m: Mutation) -> Bool { mutation == m }
    /// SKB_DATA_ALIGN on an `int`: the same bits in int arithmetic.
    @inlinable
    @inline(__always) func SKB_DATA_ALIGN(_ x: Int32) -> Int32 { Int32(bitPattern: SKB_DATA_ALIGN(UInt32(bitPattern: x))) }

    /// `size + sizeof(struct skb_shared_info)` as a size_t of the target.
    @inlinable
    @inline(__always) func withSharedInfo(_ size: Int64) -> UInt64 { (UInt64(bitPattern: size) &+ UInt64(shinfoSize)) & mask }

    @inlinable
    @inline(__always) func update(_ skb: SKB, _ body: (inout SKBuff<R>) -> Void) {
        body(&slots[Int(skb.index)].skb)
        observer?.headChanged(slot: skb.index)
    }

    /// A data buffer's shared info, placement or life changes (as `update` for an sk_buff).
    /// (Not generic over the index: the model is built without optimisation in debug builds.)
    @inlinable
    @inline(__always) func update(buffer: Int, _ body: (inout Buffer) -> Void) {
        body(&buffers[buffer])
        observer?.bufferChanged(buffer: Int32(truncatingIfNeeded: buffer))
    }

    @inlinable
    @inline(__always) func update(buffer: Int32, _ body: (inout Buffer) -> Void) { update(buffer: Int(buffer), body) }
}

/// Arenas of kernels that are gone, kept mapped for the next kernel. A campaign makes new kernels
/// for every block of iterations (the target changes), and a freshly mapped arena costs a page fault
/// for every page its first sequences touch (4% of a campaign, measured with perf). What a pooled
/// arena holds never matters: buffers are zeroed as they are used (`touch`), and `reset` has handed
/// back everything above `arenaKeep`.
enum ArenaPool {
    /// At most this many wait in the pool; more are unmapped.
    static let limit = 64
    nonisolated(unsafe) private static var pooled: [UnsafeMutableRawPointer] = []
    nonisolated(unsafe) private static var lock: pthread_mutex_t = {
        var m = pthread_mutex_t()
        pthread_mutex_init(&m, nil)
        return m
    }()

    static func take() -> UnsafeMutableRawPointer {
        pthread_mutex_lock(&lock)
        let reused = pooled.popLast()
        pthread_mutex_unlock(&lock)
        if let reused { return reused }
        let mapped = mmap(nil, Int(Kernel<OffsetRepresentation>.arenaSize), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            fatalError("cannot reserve \(Kernel<OffsetRepresentation>.arenaSize >> 20) MiB of address space for the arena")
        }
        return mapped
    }

    /// What a pooled arena keeps resident: its first pages, which nearly every sequence uses. The
    /// rest is handed back, so that what the pool holds stays small however long a campaign runs.
    static let warm = 256 << 10

    static func give(_ arena: UnsafeMutableRawPointer) {
        madvise(arena + warm, Kernel<OffsetRepresentation>.arenaKeep - warm, MADV_DONTNEED)
        pthread_mutex_lock(&lock)
        let kept = pooled.count < limit
        if kept { pooled.append(arena) }
        pthread_mutex_unlock(&lock)
        if !kept { munmap(arena, Int(Kernel<OffsetRepresentation>.arenaSize)) }
    }
}
