import SKBuff

/// A catalogued representation divergence (Specs/quirks.txt).
public struct Quirk: Hashable, Sendable {
    public let id: String
    /// The quirk's number in section 6 of the spec (nil: found by skbdiff, not listed there).
    public let specNumber: Int?
    public let explanation: String
    /// After it, OFF and PTR states differ beyond the fields it explains: stop comparing them for the
    /// references it affects (RepresentationComparator).
    let endsComparison: Bool

    public static let unsetHeaderRebased = Quirk(
        id: "unset-header-rebased", specNumber: 1,
        explanation: "copy_skb_header/pskb_expand_head/skb_copy_expand add a delta to never-set headers: NULL + delta is a wild pointer under PTR, a small offset under OFF",
        endsComparison: false)
    public static let macHeaderWasSetFresh = Quirk(
        id: "mac-header-was-set-fresh", specNumber: 2,
        explanation: "__alloc_skb zeroes mac_header and nothing stores ~0U, so skb_mac_header_was_set says 1 under OFF and 0 under PTR on a fresh skb",
        endsComparison: false)
    public static let putWrap = Quirk(
        id: "put-wrap", specNumber: 3,
        explanation: "skb_put/__skb_put add len to a u32 tail under OFF, which wraps at 2^32 and can pass the tail > end check; a pointer tail wraps elsewhere (x86_64: never); copies put by a len that an over-pull wrapped (quirk 7) or __skb_trim set, or (pskb_copy) by a headlen that wrapped because data_len exceeds len",
        endsComparison: true)

    public static let offsetOutOfRange = Quirk(
        id: "offset-out-of-range", specNumber: nil,
        explanation: "data or tail below head or 2 GiB or more past it (negative offsets, over-pulls): an unsigned int offset wraps at 2^32 where a pointer does not, so tail, skb_put's check and copies differ",
        endsComparison: true)

    /// For the helpers that allocate a copy and skb_put it, the length they put by, given the
    /// original's state: len, or headlen (len - data_len) for pskb_copy, which copies the head only
    /// (skb_realloc_headroom's copy). nil for every other helper.
    static func copyPutLength(_ op: Operation, _ t: SKBState) -> UInt32? {
        switch op {
        case .skb_copy, .skb_copy_expand, .skb_unshare: return t.len
        case .pskb_copy, .skb_realloc_headroom: return t.len &- t.dataLen
        default: return nil
        }
    }

    public static let catalogue: [Quirk] = [unsetHeaderRebased, macHeaderWasSetFresh, putWrap, offsetOutOfRange]
    public static let byID: [String: Quirk] = Dictionary(uniqueKeysWithValues: catalogue.map { ($0.id, $0) })
}

/// One field that differs between two implementations' snapshots.
public struct FieldDifference: Hashable, Sendable {
    public var reference: Int
    public var field: String
}

/// Compares OFF against PTR after a call, reference by reference, and explains the differences by
/// the catalogue. A quirk after which the states part ways (`endsComparison`) excludes the references
/// it affects from further OFF/PTR comparison: every reference the call can have changed (its target,
/// what it produced, the references sharing the target's data buffer or fclone pair, whose bytes,
/// dataref or fclone_ref the call may have treated differently), and from then on every reference a
/// call on an excluded reference can have changed. Every other reference stays compared.
struct RepresentationComparator {
    let arch: Arch
    /// sizeof(struct sk_buff) under OFF minus under PTR, as truesize differs by exactly that.
    let truesizeDelta: UInt32

    /// Agreement, the catalogued quirks that explain every difference, or the unexplained ones.
    enum Verdict { case agree, quirks(QuirkSet), unexplained([FieldDifference]) }

    /// The references compared, in order, each with its OFF and PTR state (nil: not present there).
    struct Entries {
        var references: [Int] = []
        var off: [ReferenceState?] = []
        var ptr: [ReferenceState?] = []

        mutating func removeAll() {
            references.removeAll(keepingCapacity: true)
            off.removeAll(keepingCapacity: true)
            ptr.removeAll(keepingCapacity: true)
        }

        /// From two whole views (each in reference order).
        mutating func merge(_ o: [ReferenceState], _ p: [ReferenceState]) {
            removeAll()
            var i = 0, j = 0
            while i < o.count || j < p.count {
                let ro = i < o.count ? o[i].reference : Int.max, rp = j < p.count ? p[j].reference : Int.max
                let r = min(ro, rp)
                references.append(r)
                off.append(ro == r ? o[i] : nil)
                ptr.append(rp == r ? p[j] : nil)
                if ro == r { i += 1 }
                if rp == r { j += 1 }
            }
        }

        /// From implementation-major touched states (`stride` references per implementation).
        mutating func set(_ refs: [Int], _ sc: Scratch, off o: Int, ptr p: Int, stride m: Int) {
            removeAll()
            for (j, r) in refs.enumerated() {
                references.append(r)
                off.append(sc.present[o * m + j] ? sc.states[o * m + j] : nil)
                ptr.append(sc.present[p * m + j] ? sc.states[p * m + j] : nil)
            }
        }
    }

    /// The snapshot fields, as bits of a per-reference difference mask (bit 0: frozen).
    static let fieldNames = ["frozen"] + SKBState.fieldNames
    static func bit(_ field: String) -> UInt32 { 1 << UInt32(fieldNames.firstIndex(of: field)!) }
    static let macBit = bit("mac_header"), networkBit = bit("network_header"), transportBit = bit("transport_header")
    /// A reference present under one representation only.
    static let presenceMask: UInt32 = 1 << 31

    /// `call` is nil for the comparison at the end of a sequence; `targetBefore` is the OFF state of
    /// the call's target before it, `produced` the reference it created (-1: none).
    /// `touched` the references the call can have changed (empty for the end of a sequence).
    func compare(call: Call?, targetBefore: SKBState?, off: Outcome?, ptr: Outcome?, entries: Entries,
                 touched: [Int], excluded: inout ReferenceSet) -> Verdict {
        let target = call.map { $0.op.takesTarget ? $0.target : -1 } ?? -1
        let targetExcluded = excluded.contains(target)
        // What a call on an excluded reference can change derives from it.
        if targetExcluded { for r in touched { excluded.insert(r) } }
        let outcomeDiffers = off != ptr && !targetExcluded
        var differing: [(index: Int, mask: UInt32)] = []
        for (k, r) in entries.references.enumerated() where !excluded.contains(r) {
            let mask: UInt32
            switch (entries.off[k], entries.ptr[k]) {
            case let (o?, p?): mask = differences(o, p)
            case (nil, nil): mask = 0
            default: mask = Self.presenceMask
            }
            if mask != 0 { differing.append((k, mask)) }
        }
        if !outcomeDiffers && differing.isEmpty { return .agree }

        // Quirks after which the states part ways: they explain the differences of this call and
        // exclude the references they affect.
        if let call, let ending = endingQuirk(call, targetBefore, entries, differing) {
            for r in touched { excluded.insert(r) }
            for d in differing { excluded.insert(entries.references[d.index]) }
            return .quirks(ending)
        }

        // Quirks that explain single fields.
        var met: QuirkSet = []
        var unexplained: [FieldDifference] = []
        if outcomeDiffers, let call {
            let targetOff = entries.references.firstIndex(of: call.target).flatMap { entries.off[$0] }
            let targetPtr = entries.references.firstIndex(of: call.target).flatMap { entries.ptr[$0] }
            if call.op == .skb_mac_header_was_set, off == .ok(1), ptr == .ok(0), targetPtr?.state.mac == .unset {
                met.formUnion(.macHeaderWasSetFresh)
            } else if call.op == .skb_mac_header_was_set, off == .ok(0), ptr == .ok(1), targetOff?.state.mac == .wild {
                // A never-set mac_header rebased by exactly -1 under OFF is ~0U, the value
                // skb_mac_header_was_set takes for "unset"; under PTR it is a wild non-NULL pointer.
                met.formUnion(.unsetHeaderRebased)
            } else {
                unexplained.append(FieldDifference(reference: -1, field: "outcome"))
            }
        }
        for d in differing {
            var mask = d.mask
            let r = entries.references[d.index]
            guard let o = entries.off[d.index], let p = entries.ptr[d.index] else {
                unexplained.append(FieldDifference(reference: -1, field: "references"))
                continue
            }
            let explained = Self.explainRebased(mask, o, p)
            if explained.rebased { met.formUnion(.unsetHeaderRebased) }
            mask = explained.mask
            if mask == 0 { continue }
            for (bit, name) in RepresentationComparator.fieldNames.enumerated() where mask & (1 << UInt32(bit)) != 0 {
                unexplained.append(FieldDifference(reference: r, field: name))
            }
        }
        return unexplained.isEmpty ? .quirks(met) : .unexplained(unexplained)
    }

    /// put-wrap or offset-out-of-range, when the call meets one.
    private func endingQuirk(_ call: Call, _ t: SKBState?, _ entries: Entries,
                             _ differing: [(index: Int, mask: UInt32)]) -> QuirkSet? {
        if let t, call.op == .skb_put || call.op == .__skb_put, tailArithmeticWraps(t.tail, UInt32(truncatingIfNeeded: call.arg0)) {
            return .putWrap
        }
        // The copies skb_put their new skb by len (pskb_copy by headlen): a len wrapped by an over-pull
        // (quirk 7) or set that large by __skb_trim, or a headlen wrapped by data_len > len, wraps there.
        if let t, let put = Quirk.copyPutLength(call.op, t), Int64(put) >= wrapBound { return .putWrap }
        if let t, outOfRange(t) { return .offsetOutOfRange }
        if call.op == .skb_copy_expand && (call.arg0 < 0 || call.arg0 >= wrapBound) { return .offsetOutOfRange }
        for d in differing {
            if let o = entries.off[d.index], outOfRange(o.state) { return .offsetOutOfRange }
            if let p = entries.ptr[d.index], outOfRange(p.state) { return .offsetOutOfRange }
        }
        return nil
    }

    /// How far past head an offset can go before the two representations part ways: on x86_64 where
    /// a u32 offset's sign is lost (2^31); on i386 where head + offset wraps the 32-bit address space,
    /// which for heads in the data arena at 0xC0000000-0xE0000000 (Specs/snapshot.md) is from 512 MiB.
    private var wrapBound: Int64 { arch == .i386 ? 1 << 29 : 1 << 31 }

    /// data or tail below head or past wrapBound: where an unsigned int offset and a pointer part ways.
    private func outOfRange(_ s: SKBState) -> Bool {
        s.data < 0 || s.tail < 0 || s.data >= wrapBound || s.tail >= wrapBound
    }

    /// Under OFF the tail wraps when tail + len reaches 2^32; a 32-bit pointer tail wraps when head +
    /// tail + len does, from wrapBound on.
    private func tailArithmeticWraps(_ tail: Int64, _ len: UInt32) -> Bool {
        let sum = UInt64(UInt32(truncatingIfNeeded: tail)) + UInt64(len)
        return arch == .i386 ? sum >= UInt64(wrapBound) : sum >= (1 << 32)
    }

    /// The differences left once quirk 1 (a never-set header rebased) has explained what it can, and
    /// whether it explained any.
    @inline(__always)
    func explainedDifferences(_ o: ReferenceState, _ p: ReferenceState) -> (mask: UInt32, rebased: Bool) {
        let mask = differences(o, p)
        return mask == 0 ? (0, false) : Self.explainRebased(mask, o, p)
    }

    /// A never-set header rebased: an offset (or, moved below head, a wild value) under OFF; a wild
    /// pointer under PTR, or still NULL when the pointer delta happened to be 0. Clears the header
    /// bits of `mask` that this explains.
    static func explainRebased(_ mask: UInt32, _ o: ReferenceState, _ p: ReferenceState) -> (mask: UInt32, rebased: Bool) {
        var mask = mask, rebased = false
        func explain(_ bit: UInt32, _ off: HeaderPosition, _ ptr: HeaderPosition) {
            if mask & bit != 0, off != ptr, ptr == .wild || ptr == .unset {
                mask &= ~bit
                rebased = true
            }
        }
        explain(macBit, o.state.mac, p.state.mac)
        explain(networkBit, o.state.network, p.state.network)
        explain(transportBit, o.state.transport, p.state.transport)
        return (mask, rebased)
    }

    /// The fields in which OFF and PTR differ, as bits in fieldNames order (0 when they agree: equal but
    /// for the truesize delta and never-set headers).
    private func differences(_ o: ReferenceState, _ p: ReferenceState) -> UInt32 {
        var n = o.state.adoptingNeverSetHeaders(of: p.state)
        n.truesize &+= truesizeDelta
        return o.state.differenceMask(n) << 1 | (o.frozen != p.frozen ? 1 : 0)
    }
}

/// A set of catalogued quirks, one bit each in catalogue order.
struct QuirkSet: OptionSet {
    let rawValue: UInt8

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(arrayLiteral quirks: Quirk...) {
        self.init(rawValue: 0)
        for q in quirks { insert(q) }
    }

    mutating func insert(_ q: Quirk) { formUnion(QuirkSet(rawValue: 1 << UInt8(Quirk.catalogue.firstIndex(of: q)!))) }

    // The catalogue's entries as sets, computed once: insert compares quirks by value.
    static let unsetHeaderRebased = QuirkSet(arrayLiteral: Quirk.unsetHeaderRebased)
    static let macHeaderWasSetFresh = QuirkSet(arrayLiteral: Quirk.macHeaderWasSetFresh)
    static let putWrap = QuirkSet(arrayLiteral: Quirk.putWrap)
    static let offsetOutOfRange = QuirkSet(arrayLiteral: Quirk.offsetOutOfRange)
    /// The entries after which OFF and PTR are no longer compared.
    static let ending = QuirkSet(rawValue: Quirk.catalogue.indices.reduce(0) { Quirk.catalogue[$1].endsComparison ? $0 | 1 << UInt8($1) : $0 })

    var quirks: [Quirk] {
        var bits = rawValue, out: [Quirk] = []
        while bits != 0 {
            out.append(Quirk.catalogue[bits.trailingZeroBitCount])
            bits &= bits - 1
        }
        return out
    }

    /// One of them ends the comparison.
    var endsComparison: Bool { !isDisjoint(with: QuirkSet.ending) }
}

/// The fields in which two snapshots of the same representation differ (every field counts).
func exactDifferences(_ a: (Outcome?, [ReferenceState]), _ b: (Outcome?, [ReferenceState])) -> [FieldDifference] {
    if a.0 == b.0 && ReferenceState.same(a.1, b.1) { return [] }
    var diffs: [FieldDifference] = []
    if a.0 != b.0 { diffs.append(FieldDifference(reference: -1, field: "outcome")) }
    if a.1.map(\.reference) != b.1.map(\.reference) {
        diffs.append(FieldDifference(reference: -1, field: "references"))
        return diffs
    }
    for (x, y) in zip(a.1, b.1) where x != y {
        if x.frozen != y.frozen { diffs.append(FieldDifference(reference: x.reference, field: "frozen")) }
        let mask = x.state.differenceMask(y.state)
        for (k, field) in SKBState.table.enumerated() where mask & (1 << UInt32(k)) != 0 {
            diffs.append(FieldDifference(reference: x.reference, field: field.name))
        }
    }
    return diffs
}
