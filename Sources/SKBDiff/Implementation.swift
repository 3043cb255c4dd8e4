import CSKBuff
import SKBuff

/// The state of one pool reference after a call. Like SKBState it has no padding (104 bytes), so
/// whole views compare as bytes.
public struct ReferenceState: Hashable, Sendable {
    public var state: SKBState
    @usableFromInline var storedReference: Int32
    public var frozen: Bool
    @usableFromInline var padding: (UInt8, UInt8, UInt8) = (0, 0, 0)

    public var reference: Int {
        get { Int(storedReference) }
        set { storedReference = Int32(newValue) }
    }

    @inlinable
    public init(reference: Int, frozen: Bool, state: SKBState) {
        self.state = state
        storedReference = Int32(reference)
        self.frozen = frozen
    }

    @inlinable
    public static func == (a: ReferenceState, b: ReferenceState) -> Bool {
        withUnsafeBytes(of: a) { x in withUnsafeBytes(of: b) { y in PlainBytes.equal(x, y) } }
    }

    public func hash(into h: inout Hasher) {
        h.combine(storedReference)
        h.combine(state)
    }

    /// A placeholder, overwritten before it is read.
    static var zero: ReferenceState { ReferenceState(reference: 0, frozen: false, state: .init()) }

    /// Two views (references in order) are the same, byte for byte.
    @inlinable
    static func same(_ a: [ReferenceState], _ b: [ReferenceState]) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in PlainBytes.equal(x, y) } }
    }
}

/// One implementation of the helpers: the Swift model or the C reference, in one representation.
/// It owns its pool of references, so every implementation settles calls the same way.
public protocol Implementation: AnyObject {
    var name: String { get }
    var representation: RepresentationKind { get }
    var sizing: Sizing { get }
    /// Start a new sequence with an empty pool and empty memory.
    func reset()
    /// Run a call; nil when its target reference is empty, ended or frozen (the call is not run).
    /// `pattern` seeds the bytes skb_put and skb_push write (the call's index in its sequence).
    func run(_ call: Call, pattern: UInt32) -> Outcome?
    /// The live and frozen references, in reference order.
    func snapshot(into: inout [ReferenceState])
    /// References created so far, including empty and ended ones.
    var referenceCount: Int { get }
    /// The reference can take a call: it holds an sk_buff that is not frozen.
    func isRunnable(_ reference: Int) -> Bool
    /// One reference's state, written to `out`; false (and `out` untouched) when the reference is
    /// empty or ended. The same state `snapshot(into:)` gives for it.
    func state(of reference: Int, into out: UnsafeMutablePointer<ReferenceState>) -> Bool
    /// What the reference's sk_buff shares with others (Specs/snapshot.md, "Comparing"): `.none` for
    /// an empty or ended reference, `.unknown` when the implementation cannot tell (then every live
    /// reference counts as sharing with it).
    func sharing(_ reference: Int) -> SharingKey
    /// The same for every reference in order, into `keys` (`referenceCount` of them).
    func sharingKeys(into keys: UnsafeMutablePointer<SharingKey>)
    /// Switch a fault on (Specs/mutants.txt) for the calls run from now on; nil switches it off.
    func switchOn(_ mutation: Mutation?)
    /// Objects allocated and not freed: sk_buff heads and data buffers (cache objects included).
    var liveAllocations: Int { get }
    /// How many references can take a call, and the index of the k-th of them (0-based, in order).
    var usableCount: Int { get }
    func usableReference(_ k: Int) -> Int
    /// Changes whenever a page is allocated or its count moves (0 when the implementation does not
    /// say): a call that changes it can have changed every reference with frags, since pskb_copy
    /// shares pages across data buffers.
    var pageEpoch: UInt64 { get }
    /// The reference holds an sk_buff (live or frozen) with frags (false when the implementation does
    /// not say).
    func hasFrags(_ reference: Int) -> Bool
    /// The reference's frags, for reports and the generator's boundaries (nil when the implementation
    /// cannot tell; [] for a linear, empty or ended reference).
    func fragDescriptors(of reference: Int) -> [FragDescriptor]?
    /// The implementation has the operation (a kernel tree may lack one: Specs/kernel.md). A sequence
    /// that calls one it lacks is compared on the others only.
    func supports(_ op: Operation) -> Bool
}

extension Implementation {
    public func supports(_ op: Operation) -> Bool { true }
}

/// An implementation that also runs whole sequences at once (skbref_driver.h, "Batches"): the touched
/// comparison hands it each sequence at its end, with the references to report after each call, and
/// the records its Swift model reported; it says per sequence whether it took the same. The C
/// reference does (in this process on x86_64, record by record; in the i386 worker, as one digest per
/// sequence), and so does a kernel tree's code.
public protocol BatchRunning: Implementation {
    /// Run the `count` sequences of `batch` (EncodedBatch's bytes; each from an empty pool), each to
    /// be compared with the records `expected` holds for it (as many as there are sequences).
    /// Nothing else may use the implementation until `finishBatches`; its pool is empty afterwards.
    func startBatches(_ batch: UnsafeRawBufferPointer, count: Int, expected: ExpectedRecords)
    /// Per sequence, whether it reported exactly the expected records.
    func finishBatches() -> [Bool]
}

/// The data buffer and fclone pair an sk_buff belongs to, as numbers that are equal exactly when
/// two sk_buffs share them (within one implementation and one sequence).
public struct SharingKey: Equatable, Sendable {
    public var buffer: Int32
    public var pair: Int32

    public init(buffer: Int32, pair: Int32) {
        self.buffer = buffer
        self.pair = pair
    }

    /// An empty or ended reference: it shares nothing.
    public static var none: SharingKey { SharingKey(buffer: -3, pair: -3) }
    /// A live reference whose sharing is not known: it may share anything.
    public static var unknown: SharingKey { SharingKey(buffer: -2, pair: -2) }

    public var isLive: Bool { pair != -3 }

    /// The two share a data buffer (skb_shinfo, dataref) or an fclone pair (fclone_ref).
    @inline(__always)
    func overlaps(_ o: SharingKey) -> Bool {
        if pair == -3 || o.pair == -3 { return false }
        if pair == -2 || o.pair == -2 { return true }
        return (buffer >= 0 && buffer == o.buffer) || pair == o.pair
    }
}

extension Implementation {
    public func sharing(_ reference: Int) -> SharingKey {
        var r = ReferenceState.zero
        return state(of: reference, into: &r) ? .unknown : .none
    }

    public func sharingKeys(into keys: UnsafeMutablePointer<SharingKey>) {
        for r in 0..<referenceCount { keys[r] = sharing(r) }
    }

    public var pageEpoch: UInt64 { 0 }

    public func hasFrags(_ reference: Int) -> Bool { false }

    public func fragDescriptors(of reference: Int) -> [FragDescriptor]? { nil }
}

/// The pool of references (Specs/snapshot.md, "The pool"), generic over how an implementation
/// names an sk_buff.
struct Pool<Handle: Equatable> {
    var handles: [Handle?] = []
    var frozen: [Bool] = []

    mutating func reset() {
        handles.removeAll(keepingCapacity: true)
        frozen.removeAll(keepingCapacity: true)
    }

    /// Write the live and frozen references into `out`, in reference order: `body` initialises each
    /// element in place (reference, handle, frozen, element), so a snapshot costs no array traffic.
    @inline(__always)
    func fill(_ out: inout [ReferenceState], _ body: (Int, Handle, Bool, UnsafeMutablePointer<ReferenceState>) -> Void) {
        var live = 0
        for h in handles where h != nil { live += 1 }
        if out.count > live { out.removeLast(out.count - live) }
        if out.count < live { out.append(contentsOf: repeatElement(ReferenceState.zero, count: live - out.count)) }
        handles.withUnsafeBufferPointer { handles in
            out.withUnsafeMutableBufferPointer { out in
                var k = 0
                for i in handles.indices {
                    guard let h = handles[i] else { continue }
                    body(i, h, frozen[i], out.baseAddress! + k)
                    k += 1
                }
            }
        }
    }

    /// One reference's handle and frozen bit, or nil when it is empty or ended.
    @inline(__always)
    func live(_ reference: Int) -> (Handle, Bool)? {
        guard reference >= 0, reference < handles.count, let h = handles[reference] else { return nil }
        return (h, frozen[reference])
    }

    var usableCount: Int {
        var n = 0
        for i in handles.indices where handles[i] != nil && !frozen[i] { n += 1 }
        return n
    }

    /// The index of the k-th reference that can take a call.
    func usableReference(_ k: Int) -> Int {
        var k = k
        for i in handles.indices where handles[i] != nil && !frozen[i] {
            if k == 0 { return i }
            k -= 1
        }
        preconditionFailure("fewer than \(k + 1) usable references")
    }

    func runnable(_ reference: Int) -> Handle? {
        guard reference >= 0, reference < handles.count, !frozen[reference] else { return nil }
        return handles[reference]
    }

    /// Apply a call's effect on the references. A call that stopped (BUG, panic, overflow) freezes
    /// every reference to its target and returns nothing.
    mutating func settle(_ call: Call, target: Handle?, outcome: Outcome, produced: Handle?, consumed: Bool) {
        let effect = call.op.effect
        if outcome.freezes {
            if let target {
                for i in handles.indices where handles[i] == target { frozen[i] = true }
            }
            if effect == .produces { append(nil) }
            return
        }
        switch effect {
        case .none: break
        case .produces: append(produced)
        case .consumes: handles[call.target] = nil
        case .consumesOnFailure: if consumed { handles[call.target] = nil }
        case .replaces: handles[call.target] = produced
        }
    }

    /// The call's target: .some(nil) for the allocators, the handle of a runnable reference, or nil
    /// when the call cannot run, which still numbers the reference it would have created.
    mutating func target(of call: Call) -> Handle?? {
        guard call.op.takesTarget else { return .some(nil) }
        if let handle = runnable(call.target) { return handle }
        if call.op.effect == .produces { append(nil) }
        return nil
    }

    private mutating func append(_ handle: Handle?) {
        handles.append(handle)
        frozen.append(false)
    }
}

/// The Swift model in representation R. Its entry points carry specialisations for both
/// representations: called through the protocol, they would otherwise run the model generically.
public final class SwiftImplementation<R: DataRepresentation>: Implementation {
    public let kernel: Kernel<R>
    var pool = Pool<SKB>()
    /// The states already taken (the model keeps no caches: Kernel.observer).
    let memo = StateMemo<R>()

    public init(target: Target) {
        kernel = Kernel<R>(target: target)
        kernel.observer = memo
    }

    deinit { kernel.observer = nil }

    public func switchOn(_ mutation: Mutation?) { kernel.mutation = mutation }

    public var pageEpoch: UInt64 { memo.pages }

    public func hasFrags(_ reference: Int) -> Bool {
        guard reference >= 0, reference < pool.handles.count, let skb = pool.handles[reference] else { return false }
        return kernel.hasFrags(skb)
    }

    public func fragDescriptors(of reference: Int) -> [FragDescriptor]? {
        guard reference >= 0, reference < pool.handles.count, let skb = pool.handles[reference] else { return [] }
        return kernel.frags(skb).map { FragDescriptor(page: $0.frag.page, offset: $0.frag.pageOffset, size: $0.frag.size, count: $0.count) }
    }

    public var liveAllocations: Int {
        let live = kernel.liveObjects
        return live.heads + live.buffers + live.pages
    }

    public var name: String { "swift-\(R.kind.short.lowercased())" }
    public var representation: RepresentationKind { R.kind }
    public var sizing: Sizing { kernel.sizing }
    public var referenceCount: Int { pool.handles.count }
    public func isRunnable(_ reference: Int) -> Bool { pool.runnable(reference) != nil }
    public var usableCount: Int { pool.usableCount }
    public func usableReference(_ k: Int) -> Int { pool.usableReference(k) }

    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    public func state(of reference: Int, into out: UnsafeMutablePointer<ReferenceState>) -> Bool {
        guard let (h, frozen) = pool.live(reference) else { return false }
        out.initialize(to: ReferenceState(reference: reference, frozen: frozen, state: memo.state(kernel, h)))
        return true
    }

    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    public func sharing(_ reference: Int) -> SharingKey {
        guard let (h, _) = pool.live(reference) else { return .none }
        let k = kernel.sharing(h)
        return SharingKey(buffer: k.buffer, pair: k.pair)
    }

    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    public func sharingKeys(into keys: UnsafeMutablePointer<SharingKey>) {
        let k = kernel
        pool.handles.withUnsafeBufferPointer { handles in
            for r in handles.indices {
                if let h = handles[r] {
                    let s = k.sharing(h)
                    keys[r] = SharingKey(buffer: s.buffer, pair: s.pair)
                } else {
                    keys[r] = .none
                }
            }
        }
    }

    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    public func reset() {
        kernel.reset()
        pool.reset()
        memo.reset()
    }

    /// The sk_buff a reference holds, for tests.
    public func skb(_ reference: Int) -> SKB? { pool.handles.indices.contains(reference) ? pool.handles[reference] : nil }

    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    public func run(_ call: Call, pattern: UInt32) -> Outcome? {
        // An injected failure lasts for the one call after fail_next_alloc, run or not.
        defer { if call.op != .fail_next_alloc { kernel.failCountdown = 0 } }
        guard let target = pool.target(of: call) else { return nil }
        var produced: SKB?
        var consumed = false
        let outcome: Outcome
        do {
            outcome = try execute(call, target, pattern, &produced, &consumed)
        } catch {
            outcome = Outcome(error)
        }
        pool.settle(call, target: target, outcome: outcome, produced: produced, consumed: consumed)
        return outcome
    }

    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    public func snapshot(into out: inout [ReferenceState]) {
        let k = kernel, memo = memo
        pool.fill(&out) { i, h, frozen, slot in
            slot.initialize(to: ReferenceState(reference: i, frozen: frozen, state: memo.state(k, h)))
        }
    }

    private func execute(_ call: Call, _ target: SKB?, _ pattern: UInt32,
                         _ produced: inout SKB?, _ consumed: inout Bool) throws(KernelStop) -> Outcome {
        let k = kernel
        func skbResult(_ skb: SKB?) -> Outcome {
            produced = skb
            return skb == nil ? .null : .ok(0)
        }
        func errno(_ v: Int32) -> Outcome { v < 0 ? .error(Int64(v)) : .ok(Int64(v)) }
        // A returned pointer that is address 0 (pointer arithmetic wrapped there, on i386) is the
        // NULL the kernel's caller receives (Specs/snapshot.md, "One call").
        func at(_ p: Address) -> Outcome { p == 0 ? .null : .ok(k.offset(p, in: target!)) }
        func put(_ p: Address, _ len: UInt32) throws(KernelStop) -> Outcome {
            let start = k.offset(p, in: target!)
            // A put whose tail wrapped backwards (quirk 3) writes nothing.
            if k.offsets(target!).tail >= start {
                try k.fillPattern(target!, start: start, count: len, pattern: pattern)
            }
            return at(p)
        }
        func push(_ p: Address, _ len: UInt32) throws(KernelStop) -> Outcome {
            try k.fillPattern(target!, start: k.offset(p, in: target!), count: len, pattern: pattern)
            return at(p)
        }
        switch call.op {
        case .alloc_skb: return skbResult(try k.alloc_skb(call.u32(0)))
        case .alloc_skb_fclone: return skbResult(try k.alloc_skb_fclone(call.u32(0)))
        case .dev_alloc_skb: return skbResult(try k.dev_alloc_skb(call.u32(0)))
        case .alloc_skb_from_cache: return skbResult(try k.alloc_skb_from_cache(objectSize: call.u32(0), call.u32(1)))
        case .skb_reserve: k.skb_reserve(target!, call.s32(0)); return .ok(0)
        case .skb_put: return try put(try k.skb_put(target!, call.u32(0)), call.u32(0))
        case .__skb_put: return try put(try k.__skb_put(target!, call.u32(0)), call.u32(0))
        case .skb_push: return try push(try k.skb_push(target!, call.u32(0)), call.u32(0))
        case .__skb_push: return try push(k.__skb_push(target!, call.u32(0)), call.u32(0))
        case .skb_pull: return try k.skb_pull(target!, call.u32(0)).map(at) ?? .null
        case .__skb_pull: return at(try k.__skb_pull(target!, call.u32(0)))
        case .skb_trim: k.skb_trim(target!, call.u32(0)); return .ok(0)
        case .__skb_trim: k.__skb_trim(target!, call.u32(0)); return .ok(0)
        case .skb_headroom: return .ok(Int64(k.skb_headroom(target!)))
        case .skb_tailroom: return .ok(Int64(k.skb_tailroom(target!)))
        case .skb_clone: return skbResult(try k.skb_clone(target!))
        case .skb_copy: return skbResult(try k.skb_copy(target!))
        case .pskb_copy: return skbResult(try k.pskb_copy(target!))
        case .pskb_expand_head: return errno(try k.pskb_expand_head(target!, call.s32(0), call.s32(1)))
        case .skb_realloc_headroom: return skbResult(try k.skb_realloc_headroom(target!, call.u32(0)))
        case .skb_copy_expand: return skbResult(try k.skb_copy_expand(target!, call.s32(0), call.s32(1)))
        case .skb_cow: return errno(try k.skb_cow(target!, call.u32(0)))
        case .skb_cow_head: return errno(try k.skb_cow_head(target!, call.u32(0)))
        case .skb_pad:
            let (v, freed) = try k.skb_pad(target!, call.s32(0))
            consumed = freed
            return errno(v)
        case .skb_padto:
            let (v, freed) = try k.skb_padto(target!, call.u32(0))
            consumed = freed
            return errno(v)
        case .skb_unshare: return skbResult(try k.skb_unshare(target!))
        case .skb_share_check: return skbResult(try k.skb_share_check(target!))
        case .skb_get: return skbResult(k.skb_get(target!))
        case .kfree_skb: try k.kfree_skb(target!); return .ok(0)
        case .skb_header_release: try k.skb_header_release(target!); return .ok(0)
        case .skb_cloned: return .ok(Int64(try k.skb_cloned(target!)))
        case .skb_header_cloned: return .ok(Int64(try k.skb_header_cloned(target!)))
        case .skb_shared: return .ok(Int64(k.skb_shared(target!)))
        case .skb_reset_mac_header: k.skb_reset_mac_header(target!); return .ok(0)
        case .skb_reset_network_header: k.skb_reset_network_header(target!); return .ok(0)
        case .skb_reset_transport_header: k.skb_reset_transport_header(target!); return .ok(0)
        case .skb_set_mac_header: k.skb_set_mac_header(target!, call.s32(0)); return .ok(0)
        case .skb_set_network_header: k.skb_set_network_header(target!, call.s32(0)); return .ok(0)
        case .skb_set_transport_header: k.skb_set_transport_header(target!, call.s32(0)); return .ok(0)
        case .skb_mac_header_was_set: return .ok(Int64(k.skb_mac_header_was_set(target!)))
        case .skb_reset_tail_pointer: k.skb_reset_tail_pointer(target!); return .ok(0)
        case .skb_set_tail_pointer: k.skb_set_tail_pointer(target!, call.s32(0)); return .ok(0)
        case .skb_tail_pointer: return at(k.skb_tail_pointer(target!))
        case .skb_end_pointer: return at(k.skb_end_pointer(target!))
        case .skb_is_nonlinear: return .ok(Int64(k.skb_is_nonlinear(target!)))
        case .skb_headlen: return .ok(Int64(k.skb_headlen(target!)))
        case .skb_pagelen: return .ok(Int64(try k.skb_pagelen(target!)))
        case .pskb_may_pull: return .ok(Int64(try k.pskb_may_pull(target!, call.u32(0))))
        case .__pskb_pull_tail: return at(try k.__pskb_pull_tail(target!, call.s32(0)))
        case .pskb_pull: return at(try k.pskb_pull(target!, call.u32(0)))
        case .pskb_trim: return errno(try k.pskb_trim(target!, call.u32(0)))
        case .skb_linearize: return errno(try k.skb_linearize(target!))
        case .skb_copy_bits:
            let v = try k.skb_copy_bits(target!, offset: call.s32(0), len: call.s32(1))
            return v < 0 ? .error(v) : .ok(v)
        case .add_frag: return errno(try k.add_frag(target!, offset: call.u32(0), size: call.u32(1), page: pattern &+ 1))
        case .set_csum: k.set_csum(target!, call.u32(0), call.u32(1)); return .ok(0)
        case .set_mac_len: k.set_mac_len(target!, call.u32(0)); return .ok(0)
        case .set_gso: try k.set_gso(target!, call.u32(0), call.u32(1)); return .ok(0)
        case .set_gso_type: try k.set_gso_type(target!, call.u32(0)); return .ok(0)
        case .set_ip6_frag_id: try k.set_ip6_frag_id(target!, call.u32(0)); return .ok(0)
        case .fail_next_alloc: k.failCountdown = call.u32(0); return .ok(0)
        }
    }
}

/// The engine's memory of a Swift model's states (the model keeps none: speed bookkeeping belongs
/// here). The model tells it of every change to its memory (MemoryObserver); it numbers them from
/// one counter that is never reset, so nothing cached can match a later object: per slab slot the
/// head's last change, per data buffer the last change of its shared info, placement or life and
/// the last write of its bytes, and the last page change. Per slot it keeps the state last taken
/// with the numbers it was taken at, and the digest of [data, tail) last taken with its buffer,
/// range and bytes' number.
final class StateMemo<R: DataRepresentation>: MemoryObserver {
    private var counter: UInt64 = 0
    private var heads: [UInt64] = []
    private var metas: [UInt64] = []
    private var bytes: [UInt64] = []
    /// The number of the last page change: the engine's page epoch (Implementation.pageEpoch).
    private(set) var pages: UInt64 = 0
    private var keys: [Key] = []
    private var states: [SKBState] = []
    private var digests: [Digest] = []

    struct Key: Equatable {
        var head: UInt64
        var buffer: Int32
        var meta: UInt64
        var bytes: UInt64
        var pages: UInt64
    }

    struct Digest {
        var buffer: Int32
        var bytes: UInt64
        var data: Int64
        var tail: Int64
        var digest: UInt64
    }

    @inline(__always)
    private func number(_ a: inout [UInt64], _ i: Int32) {
        counter &+= 1
        let i = Int(i)
        if i >= a.count { a.append(contentsOf: repeatElement(0, count: i + 1 - a.count)) }
        a[i] = counter
    }

    func headChanged(slot: Int32) { number(&heads, slot) }
    func bufferChanged(buffer: Int32) { number(&metas, buffer) }
    func bytesWritten(buffer: Int32) { number(&bytes, buffer) }

    func pagesChanged() {
        counter &+= 1
        pages = counter
    }

    /// A new sequence: slots and buffers are numbered from 0 again (each is numbered anew as it is
    /// allocated, from the counter).
    func reset() {
        heads.removeAll(keepingCapacity: true)
        metas.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private func number(_ a: [UInt64], _ i: Int32) -> UInt64 { i >= 0 && Int(i) < a.count ? a[Int(i)] : 0 }

    /// The skb's state: the one taken last while nothing it depends on has changed.
    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    func state(_ k: Kernel<R>, _ skb: SKB) -> SKBState {
        let i = Int(skb.index)
        let b = k.buffer(of: skb)
        let key = Key(head: number(heads, skb.index), buffer: b, meta: number(metas, b), bytes: number(bytes, b), pages: pages)
        if i < keys.count {
            if keys[i] == key { return states[i] }
        } else {
            let n = i + 1 - keys.count
            keys.append(contentsOf: repeatElement(Key(head: 0, buffer: -1, meta: 0, bytes: 0, pages: 0), count: n))
            states.append(contentsOf: repeatElement(SKBState(), count: n))
        }
        let state = k.state(skb) { buffer, data, tail, raw in digest(i, buffer, data, tail, raw) }
        keys[i] = key
        states[i] = state
        return state
    }

    /// The digest of [data, tail) of a buffer for slot i: the one taken last while the range and the
    /// buffer's bytes are the same.
    @_specialize(where R == OffsetRepresentation)
    @_specialize(where R == PointerRepresentation)
    private func digest(_ i: Int, _ buffer: Int32, _ data: Int64, _ tail: Int64, _ raw: UnsafeRawBufferPointer) -> UInt64 {
        let generation = number(bytes, buffer)
        if i < digests.count {
            let d = digests[i]
            if d.buffer == buffer && d.bytes == generation && d.data == data && d.tail == tail { return d.digest }
        } else {
            digests.append(contentsOf: repeatElement(Digest(buffer: -1, bytes: 0, data: 0, tail: 0, digest: 0), count: i + 1 - digests.count))
        }
        let digest = PacketBytes.digest(raw)
        digests[i] = Digest(buffer: buffer, bytes: generation, data: data, tail: tail, digest: digest)
        return digest
    }
}

/// The C reference in one representation and the target's CONFIG profile (the host's layout).
public final class CImplementation: BatchRunning {
    public let variant: skbref_variant
    public let representation: RepresentationKind
    public let sizing: Sizing
    private let world: OpaquePointer
    var pool = Pool<UnsafeMutableRawPointer>()
    /// Runs its batches, over the same world (skbref_driver.h).
    private let driver: OpaquePointer
    private var same: [UInt8] = []
    /// The world still holds the last sequence's allocations: reset before it is used. (The touched
    /// comparison runs the C reference only in batches, which reset it per sequence themselves.)
    private var needsReset = false

    /// The C enum skbref_op value of each catalogue entry, bound by name.
    static let opCodes: [UInt32] = Operation.allCases.map { op in
        guard let code = (0..<UInt32(SKBREF_OP_COUNT.rawValue)).first(where: { String(cString: skbref_op_name($0)) == op.name })
        else { fatalError("the C reference has no operation named \(op.name)") }
        return code
    }

    /// The C enum skbref_mutant value of each Mutation, bound by name.
    static let mutantCodes: [Mutation: Int32] = Dictionary(uniqueKeysWithValues: Mutation.allCases.map { m in
        guard let code = (1..<UInt32(SKBREF_MUTANT_COUNT.rawValue)).first(where: { String(cString: skbref_mutant_name($0)) == m.id })
        else { fatalError("the C reference has no mutant named \(m.id)") }
        return (m, Int32(code))
    })

    public func switchOn(_ mutation: Mutation?) {
        skbref_world_set_mutant(world, mutation.map { CImplementation.mutantCodes[$0]! } ?? 0)
    }

    public var liveAllocations: Int { needsReset ? 0 : Int(skbref_world_live_allocations(world)) }

    public static func variant(_ representation: RepresentationKind, _ config: ConfigProfile) -> skbref_variant {
        let profile = Int32(ConfigProfile.allCases.firstIndex(of: config)!)
        return skbref_variant_for(representation == .offset ? 1 : 0, profile)!.pointee
    }

    public init(representation: RepresentationKind, target: Target) {
        self.representation = representation
        variant = CImplementation.variant(representation, target.config)
        sizing = Sizing(skBuff: variant.sizeof_sk_buff, sharedInfo: variant.sizeof_skb_shared_info,
                        dataT: variant.sizeof_sk_buff_data_t)
        guard let world = skbref_world_create(target.cacheLine) else {
            // Target validates the cache line, so only the arena can be missing.
            fatalError("the C reference could not map its 512 MiB data arena at or above 8 GiB (Specs/snapshot.md)")
        }
        self.world = world
        guard let driver = skbref_driver_create() else { fatalError("out of memory") }
        skbref_driver_open(driver, world, skbref_variant_for(representation == .offset ? 1 : 0,
                                                             Int32(ConfigProfile.allCases.firstIndex(of: target.config)!)))
        self.driver = driver
    }

    deinit {
        skbref_driver_destroy(driver)
        skbref_world_destroy(world)
    }

    /// In this process, with nothing to carry: each record is compared as it is taken.
    public func startBatches(_ batch: UnsafeRawBufferPointer, count: Int, expected: ExpectedRecords) {
        precondition(expected.count == count, "one expectation per sequence")
        same.removeAll(keepingCapacity: true)
        same.append(contentsOf: repeatElement(0, count: count))
        var error: UnsafePointer<CChar>?
        let n = expected.ranges.withUnsafeBufferPointer { ranges in
            skbref_driver_check(driver, batch.baseAddress!.assumingMemoryBound(to: UInt8.self), batch.count,
                                expected.bytes.base.assumingMemoryBound(to: UInt8.self), expected.bytes.count,
                                ranges.baseAddress, UInt32(count), &same, &error)
        }
        // skbdiff made the batch itself: a bad one is its own bug.
        precondition(Int(n) == count, "the C reference refused a batch: \(error.map { String(cString: $0) } ?? "?")")
        pool.reset()
        needsReset = true
    }

    public func finishBatches() -> [Bool] { same.map { $0 != 0 } }

    @inline(__always)
    private func resetIfNeeded() {
        guard needsReset else { return }
        needsReset = false
        skbref_world_reset(world)
    }

    public var name: String { "c-\(representation.short.lowercased())" }
    public var referenceCount: Int { pool.handles.count }
    public func isRunnable(_ reference: Int) -> Bool { pool.runnable(reference) != nil }
    public var usableCount: Int { pool.usableCount }
    public func usableReference(_ k: Int) -> Int { pool.usableReference(k) }

    public func state(of reference: Int, into out: UnsafeMutablePointer<ReferenceState>) -> Bool {
        guard let (h, frozen) = pool.live(reference) else { return false }
        // As in snapshot(into:): C writes the state, the element's first field, in place.
        variant.state!(world, h, UnsafeMutableRawPointer(out).assumingMemoryBound(to: skbref_state.self))
        out.pointee.reference = reference
        out.pointee.frozen = frozen
        out.pointee.padding = (0, 0, 0)
        return true
    }
    /// Where the data arena starts, for tests.
    public var arenaBase: UInt { skbref_world_arena_base(world) }

    public func fragDescriptors(of reference: Int) -> [FragDescriptor]? {
        guard reference >= 0, reference < pool.handles.count, let h = pool.handles[reference] else { return [] }
        var records = [skbref_frag_state](repeating: skbref_frag_state(), count: Int(MAX_SKB_FRAGS))
        let n = Int(variant.frags!(world, h, &records))
        return records.prefix(n).map {
            FragDescriptor(page: $0.page, offset: $0.page_offset, size: $0.size,
                           count: $0.page == 0xFFFF_FFFF ? nil : Int32(bitPattern: $0.count))
        }
    }

    public func reset() {
        pool.reset()
        needsReset = true
    }

    public func run(_ call: Call, pattern: UInt32) -> Outcome? {
        resetIfNeeded()
        guard let target = pool.target(of: call) else {
            // The call fail_next_alloc was for is not run: the failure is forgotten (apply does it otherwise).
            skbref_world_cancel_injected_failure(world)
            return nil
        }
        var c = skbref_call(op: CImplementation.opCodes[call.op.rawValue], pattern: pattern, skb: target, arg: (call.arg0, call.arg1))
        var r = skbref_result()
        variant.apply!(world, &c, &r)
        let outcome = CImplementation.outcome(kind: r.kind, value: r.value, call)
        pool.settle(call, target: target, outcome: outcome, produced: r.skb, consumed: r.consumed != 0)
        return outcome
    }

    /// A struct skbref_result's kind and value as an Outcome of `call`.
    static func outcome(kind: Int32, value: Int64, _ call: Call) -> Outcome {
        switch UInt32(bitPattern: kind) {
        case SKBREF_OK.rawValue: return call.op.returns == .errno && value < 0 ? .error(value) : .ok(value)
        case SKBREF_NULL.rawValue: return .null
        case SKBREF_PANIC_OVER.rawValue: return .panicOver
        case SKBREF_PANIC_UNDER.rawValue: return .panicUnder
        case SKBREF_BUG.rawValue: return .bug(BugCheck(rawValue: Int32(truncatingIfNeeded: value)) ?? .badFree)
        default: return .overflow
        }
    }

    /// The other way: the kind and value a struct skbref_result holds for an outcome (what the C
    /// reference sets: the value is 0 for NULL, panics and overflow, the check for a BUG).
    static func result(_ o: Outcome) -> (kind: Int32, value: Int64) {
        switch o {
        case let .ok(v), let .error(v): return (Int32(SKBREF_OK.rawValue), v)
        case .null: return (Int32(SKBREF_NULL.rawValue), 0)
        case .panicOver: return (Int32(SKBREF_PANIC_OVER.rawValue), 0)
        case .panicUnder: return (Int32(SKBREF_PANIC_UNDER.rawValue), 0)
        case let .bug(b): return (Int32(SKBREF_BUG.rawValue), Int64(b.rawValue))
        case .overflow: return (Int32(SKBREF_OVERFLOW.rawValue), 0)
        }
    }

    public func snapshot(into out: inout [ReferenceState]) {
        let state = variant.state!, world = world
        pool.fill(&out) { i, h, frozen, slot in
            // The state is the element's first field, and struct skbref_state is SKBState's layout:
            // C writes it in place, whole.
            state(world, h, UnsafeMutableRawPointer(slot).assumingMemoryBound(to: skbref_state.self))
            slot.pointee.reference = i
            slot.pointee.frozen = frozen
        }
    }

}
