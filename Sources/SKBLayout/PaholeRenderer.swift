import SKBuff

/// Bits no field occupies: a hole between two fields, or the tail padding after the last one.
public struct LayoutGap: Hashable, Sendable {
    /// The field before the gap; nil when the struct starts with one.
    public var after: String?
    /// The field after the gap; nil for the tail padding.
    public var before: String?
    public var bitOffset: Int
    public var bits: Int

    public init(after: String?, before: String?, bitOffset: Int, bits: Int) {
        self.after = after
        self.before = before
        self.bitOffset = bitOffset
        self.bits = bits
    }

    public var isPadding: Bool { before == nil }
    /// A gap of whole bytes, on a byte boundary.
    public var isBytes: Bool { bitOffset % 8 == 0 && bits % 8 == 0 }
    public var bytes: Int { bits / 8 }
    /// "4 bytes" or "1 bit".
    public var amount: String { isBytes ? plural(bytes, "byte") : plural(bits, "bit") }
}

func plural(_ n: Int, _ unit: String) -> String { "\(n) \(unit)\(n == 1 ? "" : "s")" }

extension StructLayout {
    /// The holes and the tail padding, in offset order. Fields of a flattened union overlap: a field
    /// only opens a hole when it starts past everything before it.
    public var gaps: [LayoutGap] {
        var gaps: [LayoutGap] = []
        var end = 0
        var last: String?
        for field in fields {
            let length = field.isBitField ? field.bitWidth : field.size * 8
            if field.bitOffset > end {
                gaps.append(LayoutGap(after: last, before: field.name, bitOffset: end, bits: field.bitOffset - end))
            }
            if field.bitOffset + length >= end {
                end = field.bitOffset + length
                last = field.name
            }
        }
        if size * 8 > end { gaps.append(LayoutGap(after: last, before: nil, bitOffset: end, bits: size * 8 - end)) }
        return gaps
    }
}

/// The layout as pahole prints a struct: each field with offset and size, holes and padding marked,
/// 64-byte cache-line boundaries marked, and a summary. Types are not printed: the checker knows
/// fields by name and place only.
public enum PaholeRenderer {
    public static let cacheLine = 64

    /// `types` (field name to C type) prefixes each member with its type; a field of `marked` gets
    /// "<<< differs" (what `--kernel-tree` shows of the tree's header). `title` names the source.
    public static func render(_ layout: StructLayout, _ kind: LayoutStructKind, target: LayoutTarget,
                              types: [String: String] = [:], marked: Set<String> = [], title: String? = nil) -> String {
        let data = target.representation == .offset ? "NET_SKBUFF_DATA_USES_OFFSET" : "sk_buff_data_t is a pointer"
        var lines = ["/* \(title.map { $0 + ": " } ?? "")\(target): \(target.arch.triple), \(data), \(target.configSummary) */",
                     "struct \(kind.rawValue) {"]
        let gaps = layout.gaps
        var nextBoundary = cacheLine
        func member(_ text: String, _ comment: String) {
            let column = 40
            let padded = text.count < column ? text + String(repeating: " ", count: column - text.count) : text + " "
            lines.append("\t" + padded + "/* " + comment + " */")
        }
        /// "type name" as C declares it: an array's bounds after the name ("skb_frag_t frags[18]").
        func declaration(_ field: LayoutField) -> String {
            guard let type = types[field.name] else { return field.name }
            guard let bracket = type.firstIndex(of: "[") else { return "\(type) \(field.name)" }
            return "\(type[..<bracket].trimmingCharacters(in: .whitespaces)) \(field.name)\(type[bracket...])"
        }
        for field in layout.fields {
            if let hole = gaps.first(where: { $0.before == field.name }) {
                lines.append("\n\t/* XXX \(hole.amount) hole, try to pack */\n")
            }
            while field.offset >= nextBoundary {
                let ago = field.offset - nextBoundary
                lines.append("\t/* --- cacheline \(nextBoundary / cacheLine) boundary (\(nextBoundary) bytes)"
                             + (ago > 0 ? " was \(plural(ago, "byte")) ago" : "") + " --- */")
                nextBoundary += cacheLine
            }
            if field.isBitField {
                member("\(declaration(field)):\(field.bitWidth);", pad(field.offset, 5) + ":" + "\(field.bitOffset % 8)"
                       + pad(plural(field.bitWidth, "bit"), 9) + (marked.contains(field.name) ? " <<< differs" : ""))
            } else {
                member("\(declaration(field));", pad(field.offset, 7) + pad(field.size, 6) + (marked.contains(field.name) ? " <<< differs" : ""))
            }
        }
        let summary = PaholeSummary(layout)
        lines.append("")
        lines.append("\t/* size: \(layout.size), cachelines: \(summary.cacheLines), members: \(layout.fields.count) */")
        lines.append("\t/* sum members: \(summary.memberAmount), holes: \(summary.holes.count), sum holes: \(summary.holeBytes) */")
        if !summary.bitHoles.isEmpty {
            lines.append("\t/* bit holes: \(summary.bitHoles.count), sum bit holes: \(summary.bitHoleBits) bits */")
        }
        if summary.paddingBits > 0 {
            lines.append("\t/* padding: \(summary.paddingBits / 8)\(summary.paddingBits % 8 > 0 ? ", bit_padding: \(summary.paddingBits % 8)" : "") */")
        }
        if layout.size % cacheLine != 0 { lines.append("\t/* last cacheline: \(plural(layout.size % cacheLine, "byte")) */") }
        lines.append("};")
        return lines.joined(separator: "\n")
    }

    private static func pad(_ value: Any, _ width: Int) -> String {
        let s = "\(value)"
        return s.count < width ? String(repeating: " ", count: width - s.count) + s : s
    }
}

/// pahole's closing numbers for one struct.
public struct PaholeSummary: Hashable, Sendable {
    /// Holes of whole bytes, and of bits (next to bit-fields).
    public var holes: [LayoutGap]
    public var bitHoles: [LayoutGap]
    public var paddingBits: Int
    public var memberBits: Int
    public var cacheLines: Int

    public init(_ layout: StructLayout) {
        let gaps = layout.gaps
        holes = gaps.filter { !$0.isPadding && $0.isBytes }
        bitHoles = gaps.filter { !$0.isPadding && !$0.isBytes }
        paddingBits = gaps.filter(\.isPadding).map(\.bits).reduce(0, +)
        memberBits = layout.size * 8 - gaps.map(\.bits).reduce(0, +)
        cacheLines = (layout.size + PaholeRenderer.cacheLine - 1) / PaholeRenderer.cacheLine
    }

    public var holeBytes: Int { holes.map(\.bytes).reduce(0, +) }
    public var bitHoleBits: Int { bitHoles.map(\.bits).reduce(0, +) }
    public var paddingBytes: Int { paddingBits / 8 }
    /// The bytes the members occupy, with the odd bits next to bit-field holes.
    public var memberAmount: String { memberBits % 8 == 0 ? "\(memberBits / 8)" : "\(memberBits / 8) bytes + \(plural(memberBits % 8, "bit"))" }
}
