import SKBuff

/// A catalogued representation divergence (Specs/quirks.txt).
public struct Quirk: Hashable, Sendable {
    public let id: String
    /// The quirk's number in section 6 of the spec (nil: found by skbdiff, not listed there).
    public let specNumber: Int?
    public let explanation: String
    /// After it, OFF and PTR states differ beyond the fields it explains: stop comparing them for the
    /// rest of the sequence.
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
        explanation: "skb_put/__skb_put add len to a u32 tail under OFF, which wraps at 2^32 and can pass the tail > end check; a pointer tail wraps elsewhere (x86_64: never); copies put by a len that an over-pull wrapped (quirk 7) or __skb_trim set",
        endsComparison: true)

    public static let offsetOutOfRange = Quirk(
        id: "offset-out-of-range", specNumber: nil,
        explanation: "data or tail below head or 2 GiB or more past it (negative offsets, over-pulls): an unsigned int offset wraps at 2^32 where a pointer does not, so tail, skb_put's check and copies differ",
        endsComparison: true)

    /// The helpers that allocate a copy and skb_put it by the original's len.
    static func copiesByLen(_ op: Operation) -> Bool {
        switch op {
        case .skb_copy, .pskb_copy, .skb_copy_expand, .skb_realloc_headroom, .skb_unshare: return true
        default: return false
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

/// Compares OFF against PTR after a call and explains the differences by the catalogue.
struct RepresentationComparator {
    let arch: Arch
    /// sizeof(struct sk_buff) under OFF minus under PTR, as truesize differs by exactly that.
    let truesizeDelta: UInt32

    /// Agreement, the catalogued quirks that explain every difference, or the unexplained ones.
    enum Verdict { case agree, quirks(QuirkSet), unexplained([FieldDifference]) }

    /// The snapshot fields, as bits of a per-reference difference mask (bit 0: frozen).
    static let fieldNames = ["frozen"] + SKBState.fieldNames
    static func bit(_ field: String) -> UInt32 { 1 << UInt32(fieldNames.firstIndex(of: field)!) }
    static let macBit = bit("mac_header"), networkBit = bit("network_header"), transportBit = bit("transport_header")

    func compare(call: Call, before: [ReferenceState], off: (Outcome?, [ReferenceState]),
                 ptr: (Outcome?, [ReferenceState])) -> Verdict {
        let outcomeDiffers = off.0 != ptr.0
        let sameReferences = off.1.count == ptr.1.count && zip(off.1, ptr.1).allSatisfy { $0.reference == $1.reference }
        var anyField = false
        if sameReferences {
            for (o, p) in zip(off.1, ptr.1) where differences(o, p) != 0 {
                anyField = true
                break
            }
        }
        if !outcomeDiffers && sameReferences && !anyField { return .agree }

        // Quirks after which the states part ways: they explain everything from here on.
        let target = before.first { $0.reference == call.target }?.state
        if let t = target, call.op == .skb_put || call.op == .__skb_put,
           tailArithmeticWraps(t.tail, UInt32(truncatingIfNeeded: call.arg0)) {
            return .quirks(.putWrap)
        }
        // The copies skb_put their new skb by len: a len wrapped by an over-pull (quirk 7), or set that
        // large by __skb_trim, wraps there.
        if let t = target, Quirk.copiesByLen(call.op), Int64(t.len) >= wrapBound {
            return .quirks(.putWrap)
        }
        if before.contains(where: { outOfRange($0.state) }) || off.1.contains(where: { outOfRange($0.state) })
            || ptr.1.contains(where: { outOfRange($0.state) })
            || (call.op == .skb_copy_expand && (call.arg0 < 0 || call.arg0 >= wrapBound)) {
            return .quirks(.offsetOutOfRange)
        }
        guard sameReferences else { return .unexplained([FieldDifference(reference: -1, field: "references")]) }

        // Quirks that explain single fields.
        var met: QuirkSet = []
        var unexplained: [FieldDifference] = []
        if outcomeDiffers {
            if call.op == .skb_mac_header_was_set, off.0 == .ok(1), ptr.0 == .ok(0),
               ptr.1.first(where: { $0.reference == call.target })?.state.mac == .unset {
                met.formUnion(.macHeaderWasSetFresh)
            } else if call.op == .skb_mac_header_was_set, off.0 == .ok(0), ptr.0 == .ok(1),
                      off.1.first(where: { $0.reference == call.target })?.state.mac == .wild {
                // A never-set mac_header rebased by exactly -1 under OFF is ~0U, the value
                // skb_mac_header_was_set takes for "unset"; under PTR it is a wild non-NULL pointer.
                met.formUnion(.unsetHeaderRebased)
            } else {
                unexplained.append(FieldDifference(reference: -1, field: "outcome"))
            }
        }
        for (o, p) in zip(off.1, ptr.1) {
            var mask = differences(o, p)
            if mask == 0 { continue }
            // A never-set header rebased: an offset (or, moved below head, a wild value) under OFF; a
            // wild pointer under PTR, or still NULL when the pointer delta happened to be 0.
            func explain(_ bit: UInt32, _ off: HeaderPosition, _ ptr: HeaderPosition) {
                if mask & bit != 0, off != ptr, ptr == .wild || ptr == .unset {
                    mask &= ~bit
                    met.formUnion(.unsetHeaderRebased)
                }
            }
            explain(Self.macBit, o.state.mac, p.state.mac)
            explain(Self.networkBit, o.state.network, p.state.network)
            explain(Self.transportBit, o.state.transport, p.state.transport)
            if mask == 0 { continue }
            for (bit, name) in RepresentationComparator.fieldNames.enumerated() where mask & (1 << UInt32(bit)) != 0 {
                unexplained.append(FieldDifference(reference: o.reference, field: name))
            }
        }
        return unexplained.isEmpty ? .quirks(met) : .unexplained(unexplained)
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

    var quirks: [Quirk] { Quirk.catalogue.indices.filter { rawValue & (1 << UInt8($0)) != 0 }.map { Quirk.catalogue[$0] } }

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
