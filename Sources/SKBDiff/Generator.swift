import SKBuff

/// SplitMix64: small, fast and seedable, so iteration i is reproducible from (seed, i) alone.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The generator of iteration `i` of a campaign with seed `seed`.
    public init(seed: UInt64, iteration: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (iteration &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next() ^ iteration
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    @inline(__always) mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Random calls that lean towards the boundaries that matter: 0, +-1 around headroom, tailroom and
/// len, exact fits, cache-line multiples, and now and then huge values (the u32 wrap).
public struct Generator: Sendable {
    public let target: Target
    public let maxOps: Int
    /// Above this many usable references, calls that make new ones are rare.
    public var poolLimit = 6
    /// Operations drawn 1 time in 32 only (a kernel tree lacks them, and a sequence that calls one is
    /// not compared with the kernel: Specs/kernel.md). Empty: the draws are as without it.
    public var rare: Set<Operation> = [] {
        didSet { isRare = rare.isEmpty ? [] : Operation.allCases.map { rare.contains($0) } }
    }
    private var isRare: [Bool] = []
    /// `--ops`: the only operations drawn (nil: every one). Must hold an allocator.
    public var only: Set<Operation>? {
        didSet {
            byWeight = Operation.allCases.filter { only?.contains($0) ?? true }.flatMap { Array(repeating: $0, count: Generator.weight($0)) }
            totalWeight = byWeight.count
            allocatorsDrawn = Generator.allocators.filter { only?.contains($0) ?? true }
        }
    }
    /// The allocators an empty pool draws from.
    private var allocatorsDrawn = Generator.allocators

    private let shinfo: Int64
    private let cacheLine: Int64
    /// Each operation repeated as often as its weight, in catalogue order: a draw below the total
    /// weight indexes it directly (the same operation a cumulative scan would give).
    private var byWeight: [Operation]
    private static let argumentKinds: [[ArgumentKind]] = Operation.allCases.map { $0.info.arguments.map(\.kind) }
    private var totalWeight: Int

    public init(target: Target, maxOps: Int) {
        self.target = target
        self.maxOps = maxOps
        shinfo = Int64(KernelStructs.sharedInfo(arch: target.arch).size)
        cacheLine = Int64(target.cacheLine)
        byWeight = Operation.allCases.flatMap { Array(repeating: $0, count: Generator.weight($0)) }
        totalWeight = byWeight.count
    }

    /// How often each helper is drawn: every helper is generated; the ones with boundaries more often.
    static func weight(_ op: Operation) -> Int {
        switch op {
        case .skb_put, .skb_push, .skb_reserve: return 6
        case .skb_pull, .pskb_expand_head, .skb_clone, .kfree_skb, .alloc_skb: return 4
        case .add_frag: return 3
        case .__skb_put, .__skb_push, .__skb_pull, .skb_trim, .skb_copy, .pskb_copy, .skb_realloc_headroom,
             .skb_copy_expand, .skb_cow, .skb_cow_head, .skb_pad, .skb_padto, .skb_unshare, .skb_share_check,
             .skb_get, .skb_header_release, .alloc_skb_fclone, .dev_alloc_skb, .skb_set_tail_pointer,
             .pskb_may_pull, .__pskb_pull_tail, .pskb_pull, .pskb_trim, .skb_linearize:
            return 2
        case .fail_next_alloc: return 3
        default: return 1
        }
    }

    /// How many calls iteration's sequence has: 1 to maxOps.
    public func length(_ rng: inout SplitMix64) -> Int { 1 + rng.below(maxOps) }

    /// The next call, given the usable references and their states.
    public func next(_ rng: inout SplitMix64, usable: [ReferenceState]) -> Call {
        usable.withUnsafeBufferPointer { next(&rng, view: $0, skippingFrozen: false) }
    }

    /// The same, given a whole view: its frozen references are skipped, as if `usable` held the
    /// others (the campaign's path, which builds no array).
    func next(_ rng: inout SplitMix64, view: UnsafeBufferPointer<ReferenceState>) -> Call {
        next(&rng, view: view, skippingFrozen: true)
    }

    private func next(_ rng: inout SplitMix64, view: UnsafeBufferPointer<ReferenceState>, skippingFrozen: Bool) -> Call {
        var usable = view.count
        if skippingFrozen { for r in view where r.frozen { usable -= 1 } }
        return next(&rng, usable: usable) { k in
            // The k-th usable reference.
            var k = k
            var i = 0
            while (skippingFrozen && view[i].frozen) || k > 0 {
                if !(skippingFrozen && view[i].frozen) { k -= 1 }
                i += 1
            }
            return view[i]
        }
    }

    /// The same, reading an implementation's pool directly: its usable references and the state of
    /// the one drawn (the campaign's path when it does not snapshot every reference after a call),
    /// and its frags' sizes. Given the previous call, now and then the next one follows it up
    /// (`followUps`).
    public func next(_ rng: inout SplitMix64, from impl: Implementation, after previous: Call? = nil) -> Call {
        if let previous, let call = followUp(&rng, impl, previous) { return call }
        return next(&rng, usable: impl.usableCount, frags: impl) { k in
            var r = ReferenceState.zero
            _ = impl.state(of: impl.usableReference(k), into: &r)
            return r
        }
    }

    /// The draw itself, given how many references are usable and the k-th of them: every entry
    /// point consumes the same random numbers for the same pool.
    @inline(__always)
    private func next(_ rng: inout SplitMix64, usable: Int, frags: Implementation? = nil,
                      kth: (Int) -> ReferenceState) -> Call {
        var op: Operation
        repeat {
            op = pick(&rng)
            if usable == 0 && op.takesTarget { op = allocatorsDrawn[rng.below(allocatorsDrawn.count)] }
        } while (op.effect == .produces && usable >= poolLimit && !rng.chance(10))
            || (!isRare.isEmpty && isRare[op.rawValue] && rng.below(32) != 0)
        guard op.takesTarget else { return Call(op, allocationArguments(op, &rng)) }
        let r = kth(rng.below(usable))
        return arguments(op, r.reference, r.state, frags, &rng)
    }

    /// The call of `op` on a reference in state `s`, its arguments drawn (the second may depend on the
    /// first); `frags`, when given, tells a reference's frag sizes for the paged helpers' boundaries.
    private func arguments(_ op: Operation, _ reference: Int, _ s: SKBState, _ frags: Implementation?,
                           _ rng: inout SplitMix64) -> Call {
        let kinds = Generator.argumentKinds[op.rawValue]
        let boundary = fragBoundary(op, reference, s, frags, &rng)
        let a0 = kinds.count > 0 ? fit(argument(op, 0, s, boundary, 0, &rng), kinds[0]) : 0
        let a1 = kinds.count > 1 ? fit(argument(op, 1, s, boundary, a0, &rng), kinds[1]) : 0
        return Call(op, target: reference, arg0: a0, arg1: a1)
    }

    /// A reference's frag sizes as the implementation sees them ([] without one, or when it cannot
    /// tell).
    static func fragSizes(_ impl: Implementation?, _ reference: Int) -> [UInt32] {
        impl?.fragDescriptors(of: reference)?.map(\.size) ?? []
    }

    static let allocators: [Operation] = [.alloc_skb, .alloc_skb_fclone, .dev_alloc_skb, .alloc_skb_from_cache]

    /// Multi-step scenarios that independent draws reach only after thousands of iterations: after
    /// a call, 30% of the time, one of these on the reference it produced (`true`) or targeted.
    /// Clone the fclone companion and free it, then clone an fclone original again (`kfree_skb`'s
    /// follow-up, special-cased below); release the header, then cow or clone; pad or trim a fresh
    /// clone to exactly its length; expand a clone; trim after moving tail; hang more frags, then pull,
    /// trim, copy or free them.
    static let followUps: [[(op: Operation, onProduced: Bool)]] = Operation.allCases.map { op in
        switch op {
        case .alloc_skb_fclone: return [(.skb_clone, true)]
        case .skb_clone: return [(.kfree_skb, true), (.skb_clone, false), (.skb_header_release, false), (.skb_padto, false),
                                 (.skb_trim, true), (.pskb_expand_head, true), (.skb_cow_head, false)]
        case .kfree_skb: return [(.skb_clone, false)]
        // More frags, then what pulls, trims, copies or frees them (Specs/paged.md).
        case .add_frag:
            return [.add_frag, .add_frag, .add_frag, .pskb_may_pull, .pskb_pull, .pskb_trim, .skb_linearize, .pskb_copy,
                    .skb_clone, .skb_pad, .skb_copy, .pskb_expand_head, .kfree_skb, .skb_copy_bits].map { ($0, false) }
        // An injected failure, then a helper that allocates (on the last usable reference, below).
        case .fail_next_alloc:
            return [.skb_clone, .skb_copy, .pskb_copy, .pskb_expand_head, .skb_realloc_headroom, .skb_copy_expand, .skb_cow,
                    .skb_unshare, .skb_share_check, .skb_pad, .alloc_skb, .alloc_skb_fclone].map { ($0, false) }
        case .skb_reset_tail_pointer, .skb_set_tail_pointer: return [(.skb_trim, false), (.__skb_trim, false), (.skb_put, false)]
        case .skb_header_release: return [(.skb_cow_head, false), (.skb_clone, false), (.skb_cow, false)]
        case .skb_copy, .pskb_copy, .skb_copy_expand, .skb_realloc_headroom: return [(.skb_clone, true), (.pskb_expand_head, true)]
        case .set_csum, .set_mac_len, .set_gso, .set_gso_type, .set_ip6_frag_id:
            return [(.skb_clone, false), (.skb_copy, false), (.pskb_expand_head, false), (.skb_copy_expand, false)]
        default: return []
        }
    }

    /// A follow-up of `previous` (see `followUps`), or nil for a free draw.
    private func followUp(_ rng: inout SplitMix64, _ impl: Implementation, _ previous: Call) -> Call? {
        // A driver fills frags[] in a loop: after the first frag, often another; from the second on,
        // most of the time, up to MAX_SKB_FRAGS and past it (-EMSGSIZE).
        // (nr_frags from the state: the count of its frags, without building their list.)
        if previous.op == .add_frag {
            var r = ReferenceState.zero
            if impl.state(of: previous.target, into: &r), case let n = r.state.nrFrags, n >= 1, rng.chance(n >= 2 ? 92 : 40),
               only?.contains(.add_frag) ?? true {
                return arguments(.add_frag, previous.target, r.state, impl, &rng)
            }
        }
        let options = Generator.followUps[previous.op.rawValue]
        guard !options.isEmpty, rng.chance(30) else { return nil }
        let (op, onProduced) = options[rng.below(options.count)]
        if let only, !only.contains(op) { return nil }
        var reference = onProduced ? (previous.op.effect == .produces ? impl.referenceCount - 1 : -1) : previous.target
        if previous.op == .fail_next_alloc {
            if !op.takesTarget { return Call(op, allocationArguments(op, &rng)) }
            reference = impl.usableCount > 0 ? impl.usableReference(impl.usableCount - 1) : -1
        } else if previous.op == .kfree_skb {
            // The freed reference is gone: clone the first fclone original still usable, if any.
            var r = ReferenceState.zero
            reference = (0..<impl.usableCount).lazy.map { impl.usableReference($0) }
                .first { impl.state(of: $0, into: &r) && r.state.fclone == .orig } ?? -1
        }
        var r = ReferenceState.zero
        guard reference >= 0, impl.isRunnable(reference), impl.state(of: reference, into: &r) else { return nil }
        return arguments(op, reference, r.state, impl, &rng)
    }

    /// For the paged helpers: the offset from data where the frags up to the j-th end (j drawn from 1
    /// to 4, or fewer frags when it has fewer): headlen plus their sizes; len when the sizes are not
    /// known. Other operations draw nothing.
    private func fragBoundary(_ op: Operation, _ reference: Int, _ s: SKBState, _ frags: Implementation?,
                              _ rng: inout SplitMix64) -> Int64 {
        switch op {
        case .pskb_may_pull, .__pskb_pull_tail, .pskb_pull, .pskb_trim, .skb_copy_bits, .skb_pull, .__skb_pull:
            let j = 1 + rng.below(4)
            let sizes = s.nrFrags == 0 ? [] : Generator.fragSizes(frags, reference)
            guard !sizes.isEmpty else { return Int64(s.len) }
            return Int64(s.len &- s.dataLen) + sizes.prefix(j).reduce(Int64(0)) { $0 + Int64($1) }
        default:
            return 0
        }
    }

    private func pick(_ rng: inout SplitMix64) -> Operation { byWeight[rng.below(totalWeight)] }

    /// Bring a value into the range of its C type, as a C conversion would.
    private func fit(_ v: Int64, _ kind: ArgumentKind) -> Int64 {
        kind == .u32 ? Int64(UInt32(truncatingIfNeeded: v)) : Int64(Int32(truncatingIfNeeded: v))
    }

    /// One of the anchors, give or take one; sometimes a small number, a cache-line multiple or a huge value.
    @inline(__always)
    private func near(_ anchors: [Int64], _ rng: inout SplitMix64) -> Int64 {
        let r = rng.below(100)
        if r < 70 { return anchors[rng.below(anchors.count)] + Int64(rng.below(3) - 1) }
        if r < 85 { return Int64(rng.below(64)) }
        if r < 96 { return cacheLine * Int64(rng.below(9)) + Int64(rng.below(3) - 1) }
        return huge(&rng)
    }

    private func huge(_ rng: inout SplitMix64) -> Int64 {
        switch rng.below(4) {
        case 0: return (1 << 32) - Int64(rng.below(256))
        case 1: return (1 << 31) + Int64(rng.below(3) - 1)
        case 2: return -Int64(rng.below(256)) - 1
        default: return Int64(UInt32.max)
        }
    }

    private func allocationArguments(_ op: Operation, _ rng: inout SplitMix64) -> [Int64] {
        // KMALLOC_MAX_SIZE's edge is rare: a 4 MiB buffer costs every implementation a 4 MiB fill.
        let kmallocEdge = (1 << 22) - shinfo
        let sizes: [Int64] = [0, 1, 60, 100, cacheLine, 1500, 4096 - shinfo, 4096]
        func size() -> Int64 { rng.below(2000) == 0 ? kmallocEdge + Int64(rng.below(3) - 1) : near(sizes, &rng) }
        switch op {
        case .fail_next_alloc:
            // Mostly the next allocation or the one after (a helper's second: data after head).
            return [rng.chance(90) ? Int64(1 + rng.below(3)) : fit(near([0, 1], &rng), .u32)]
        case .alloc_skb_from_cache:
            if rng.chance(30) {
                // An exact fit, and one byte either side: object = SKB_DATA_ALIGN(request) + shinfo.
                let request = near([0, 1, 60, 100, cacheLine, 1500], &rng) & 0xFFFF
                let aligned = (request + cacheLine - 1) / cacheLine * cacheLine
                return [fit(aligned + shinfo + Int64(rng.below(3) - 1), .u32), fit(request, .u32)]
            }
            // Mostly Xen's one-page cache; the largest request that fits is SKB_DATA_ALIGN-down of 4096 - shinfo.
            let object: Int64 = rng.chance(80) ? 4096 : [0, 2048, 8192, (1 << 22) + 1][rng.below(4)]
            let fits = (object - shinfo) / cacheLine * cacheLine
            let request = rng.chance(70) ? fits + Int64(rng.below(3) - 1) : size()
            return [fit(object, .u32), fit(request, .u32)]
        default:
            return [fit(size(), .u32)]
        }
    }

    /// Argument `index` of `op` on a reference in state `s`; `boundary` is fragBoundary's, `previous`
    /// the argument before this one.
    private func argument(_ op: Operation, _ index: Int, _ s: SKBState, _ boundary: Int64, _ previous: Int64,
                          _ rng: inout SplitMix64) -> Int64 {
        let headroom = Int64(s.headroom), tailroom = Int64(s.tailroom), len = Int64(s.len)
        let headlen = Int64(s.len &- s.dataLen)
        // The length that makes a u32 tail wrap exactly to 0 (quirk 3).
        let wrap = (1 << 32) - Int64(UInt32(truncatingIfNeeded: s.tail))
        switch op {
        case .skb_put, .__skb_put:
            return rng.chance(3) ? wrap + Int64(rng.below(Int(max(1, min(s.end, 4096))))) : near([0, 1, tailroom], &rng)
        case .skb_push, .__skb_push: return near([0, 1, headroom], &rng)
        case .skb_pull, .__skb_pull: return near([0, len, headlen, boundary], &rng)
        case .skb_trim, .__skb_trim: return near([0, len], &rng)
        case .skb_reserve: return near([0, tailroom, -headroom, 16], &rng)
        case .pskb_expand_head: return rng.chance(90) ? near([0, 16, cacheLine], &rng) & 0xFFFF : near([0], &rng)
        case .skb_realloc_headroom, .skb_cow, .skb_cow_head: return near([0, 16, headroom, headroom + cacheLine], &rng)
        case .skb_copy_expand: return index == 0 ? near([0, 16, headroom], &rng) : near([0, tailroom], &rng)
        case .skb_pad: return near([0, 1, tailroom, 60], &rng)
        case .skb_padto: return near([len, len + tailroom, 60], &rng)
        case .skb_set_mac_header, .skb_set_network_header, .skb_set_transport_header:
            return near([0, 14, 20, -14, -headroom, len], &rng)
        case .skb_set_tail_pointer: return near([0, len, len + tailroom], &rng)
        case .set_csum:
            // csum_start near where expand and copy_expand move it (quirk 4: no carry into the high half).
            guard index == 0 else { return rng.chance(90) ? Int64(rng.below(4)) : near([0], &rng) }
            let start = near([0, headroom, headroom + 14, 0xFFFF], &rng) & 0xFFFF
            return (rng.chance(50) ? 0 : Int64(rng.below(1 << 16)) << 16) | start
        case .set_mac_len: return near([0, 14, headroom, 0xFFFF], &rng)
        case .set_gso: return index == 0 ? near([0, 1448, 0xFFFF], &rng) : near([0, 1, 0xFFFF], &rng)
        case .set_gso_type: return near([0, 1, 2, 4, 0xFFFF], &rng)
        case .set_ip6_frag_id: return rng.chance(50) ? Int64(rng.next() & 0xFFFF_FFFF) : near([0], &rng)
        case .add_frag:
            // Offsets and sizes at a page's edges, and sizes that fill the page from the offset.
            if index == 0 { return rng.chance(50) ? 0 : near([0, 1, 4095, 4096, 2048], &rng) }
            let room = 4096 - previous
            return rng.chance(10) ? near([0, 4096], &rng) : near([1, room, room, 100, 1448, 0], &rng)
        case .pskb_may_pull, .pskb_pull, .pskb_trim: return near([headlen, boundary, len, 0], &rng)
        case .__pskb_pull_tail: return near([s.dataLen == 0 ? 0 : 1, Int64(s.dataLen), boundary - headlen], &rng)
        case .skb_copy_bits:
            // offset inside the head, at the frags, or in the headroom; len to the end, or to a boundary.
            if index == 0 { return near([0, headlen, boundary, -headroom], &rng) }
            return near([len - previous, boundary - previous, 1, 0], &rng)
        default: return near([0], &rng)
        }
    }
}
