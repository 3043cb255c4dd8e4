import SKBuff

/// What NET_SKBUFF_DATA_USES_OFFSET saves on x86_64 for one CONFIG profile, explained from the two
/// layouts. The book says sk_buff shrinks by 20 bytes (five 8-byte pointers become 4-byte offsets);
/// the layouts say how much it really shrinks, and why when that is not the naive figure.
public struct SizingEntry: Hashable, Sendable {
    public var config: ConfigProfile
    public var pointerSize: Int
    public var offsetSize: Int
    /// The fields that narrow: (name, PTR size, OFF size).
    public var narrowed: [NarrowedField]
    /// Where the holes and padding differ: why the saving is not the naive one.
    public var gapChanges: [GapChange]

    public struct NarrowedField: Hashable, Sendable {
        public var name: String
        public var pointerSize: Int
        public var offsetSize: Int
    }

    /// Padding before one field (or the tail padding, `before` nil) that differs between PTR and OFF.
    public struct GapChange: Hashable, Sendable {
        public var before: String?
        public var pointerBytes: Int
        public var offsetBytes: Int
        /// Under OFF: where the previous field ends and the field starts.
        public var offsetGap: LayoutGap?
    }

    public var saving: Int { pointerSize - offsetSize }
    /// Σ (PTR size − OFF size) over the fields that narrow: 5 × (8 − 4) = 20 on x86_64.
    public var naiveSaving: Int { narrowed.map { $0.pointerSize - $0.offsetSize }.reduce(0, +) }

    public init(config: ConfigProfile, pointer: StructLayout, offset: StructLayout) {
        self.config = config
        pointerSize = pointer.size
        offsetSize = offset.size
        narrowed = pointer.fields.compactMap { p in
            guard let o = offset.field(p.name), o.size != p.size else { return nil }
            return NarrowedField(name: p.name, pointerSize: p.size, offsetSize: o.size)
        }
        func bytes(_ layout: StructLayout) -> [String: (Int, LayoutGap)] {
            Dictionary(layout.gaps.map { ($0.before ?? "", ($0.bits / 8, $0)) }, uniquingKeysWith: { a, _ in a })
        }
        let p = bytes(pointer), o = bytes(offset)
        let keys = offset.fields.map(\.name).filter { p[$0] != nil || o[$0] != nil } + [""]
        gapChanges = keys.compactMap { key in
            let pb = p[key]?.0 ?? 0, ob = o[key]?.0 ?? 0
            guard pb != ob else { return nil }
            return GapChange(before: key.isEmpty ? nil : key, pointerBytes: pb, offsetBytes: ob, offsetGap: o[key]?.1)
        }
    }

    /// Why the saving differs from the naive one, read from the holes and padding of the two
    /// layouts; nil when it does not differ.
    public var reason: String? {
        guard saving != naiveSaving else { return nil }
        let widths = Set(narrowed.map { "\($0.pointerSize)->\($0.offsetSize)" })
        let naive = widths.count == 1
            ? "\(narrowed.count) x \(narrowed[0].pointerSize - narrowed[0].offsetSize) = \(naiveSaving): "
                + narrowed.map(\.name).joined(separator: ", ") + " shrink from \(narrowed[0].pointerSize) to \(narrowed[0].offsetSize) bytes each"
            : "\(naiveSaving)"
        let parts = gapChanges.map { change -> String in
            let delta = change.offsetBytes - change.pointerBytes
            let ptr = change.pointerBytes == 0 ? "none" : plural(change.pointerBytes, "byte")
            guard let next = change.before else {
                return "OFF has \(plural(change.offsetBytes, "byte")) of tail padding, the size rounded up to the struct's alignment (PTR: \(ptr))"
            }
            var text = delta > 0
                ? "OFF inserts \(plural(delta, "byte")) of alignment padding before \(next)"
                : "OFF needs \(plural(-delta, "byte")) less alignment padding before \(next)"
            if let gap = change.offsetGap {
                text += " (\(gap.after ?? "the start") ends at offset \(gap.bitOffset / 8), \(next) starts at \((gap.bitOffset + gap.bits) / 8),"
                    + " the next multiple of its alignment; PTR: \(ptr) there)"
            }
            return text
        }
        return "not \(naive), but " + (parts.isEmpty ? "the padding differs" : parts.joined(separator: "; "))
    }

    public var line: String {
        "\(config.rawValue): PTR \(pointerSize), OFF \(offsetSize), saving \(plural(saving, "byte"))" + (reason.map { " (\($0))" } ?? "")
    }
}

/// The sizing section of the report: the x86_64 savings, and the i386 check that both
/// representations give one layout (sk_buff_data_t is 4 bytes either way).
public struct SizingReport: Hashable, Sendable {
    public var x86_64: [SizingEntry]
    /// i386 profiles whose OFF and PTR layouts are identical, with sizeof(struct sk_buff).
    public var i386Identical: [ProfileSize] = []
    /// The i386 differences between PTR and OFF (there should be none).
    public var i386Differences: [LayoutDifference]

    public struct ProfileSize: Hashable, Sendable {
        public var config: ConfigProfile
        public var size: Int
    }

    /// From whatever targets `layouts` holds: a profile needs both representations to be reported.
    public init(_ layouts: [TargetLayout], source: String) {
        func layout(_ arch: Arch, _ representation: RepresentationKind, _ config: ConfigProfile) -> TargetLayout? {
            layouts.first { $0.target == LayoutTarget(arch: arch, representation: representation, config: config) }
        }
        x86_64 = ConfigProfile.allCases.compactMap { config in
            guard let p = layout(.x86_64, .pointer, config), let o = layout(.x86_64, .offset, config) else { return nil }
            return SizingEntry(config: config, pointer: p.skBuff, offset: o.skBuff)
        }
        var differences: [LayoutDifference] = []
        for config in ConfigProfile.allCases {
            guard let p = layout(.i386, .pointer, config), let o = layout(.i386, .offset, config) else { continue }
            var offsetAsPointer = o
            offsetAsPointer.target = p.target
            let d = LayoutComparison.compare(p, "\(source) PTR", with: offsetAsPointer, "\(source) OFF")
            differences += d
            if d.isEmpty { i386Identical.append(ProfileSize(config: config, size: p.skBuff.size)) }
        }
        i386Differences = differences
    }

    public var isEmpty: Bool { x86_64.isEmpty && i386Identical.isEmpty && i386Differences.isEmpty }

    public var text: String {
        var lines: [String] = []
        if !x86_64.isEmpty {
            lines.append("sizeof(struct sk_buff) on x86_64, PTR (pointers) against OFF (NET_SKBUFF_DATA_USES_OFFSET):")
            lines += x86_64.map { "  " + $0.line }
        }
        if !i386Identical.isEmpty {
            lines.append("i386: OFF and PTR give the same layout (sk_buff_data_t is 4 bytes either way): "
                         + i386Identical.map { "\($0.config.rawValue) \($0.size)" }.joined(separator: ", "))
        }
        if !i386Differences.isEmpty {
            lines.append("i386: OFF and PTR layouts differ in \(plural(i386Differences.count, "value"))")
        }
        return lines.joined(separator: "\n")
    }
}
