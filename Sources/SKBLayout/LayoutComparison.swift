import Foundation
import SKBuff

/// One value two sources disagree on: a field's offset, size or bit position, a field one of them
/// lacks, or a struct's size or alignment.
public struct LayoutDifference: Hashable, Sendable, CustomStringConvertible {
    public var target: LayoutTarget
    /// "sk_buff.csum_start", "struct sk_buff", "sk_buff_data_t".
    public var item: String
    /// "offset", "size", "bit_offset", "bit_width", "present", "align".
    public var property: String
    /// The source checked against ("Swift layout") and its value.
    public var reference: String
    public var expected: String
    /// The source that disagrees ("libclang", "C reference", ...) and its value.
    public var source: String
    public var actual: String

    public var description: String {
        "\(target): \(item) \(property): \(reference) \(expected), \(source) \(actual)"
    }
}

public enum LayoutComparison {
    /// Every difference between `reference` and `other` for the same target. With `partial`, `other`
    /// only knows some fields (MemoryLayout sees no bit-fields): the ones it lacks are not differences.
    public static func compare(_ reference: TargetLayout, _ referenceName: String,
                               with other: TargetLayout, _ otherName: String, partial: Bool = false) -> [LayoutDifference] {
        precondition(reference.target == other.target, "comparing layouts of different targets")
        func difference(_ item: String, _ property: String, _ expected: String, _ actual: String) -> LayoutDifference {
            LayoutDifference(target: reference.target, item: item, property: property,
                             reference: referenceName, expected: expected, source: otherName, actual: actual)
        }
        var out: [LayoutDifference] = []
        if reference.dataTSize != other.dataTSize {
            out.append(difference("sk_buff_data_t", "size", "\(reference.dataTSize)", "\(other.dataTSize)"))
        }
        for kind in LayoutStructKind.allCases {
            let a = reference[kind], b = other[kind]
            let structName = "struct \(kind.rawValue)"
            if a.size != b.size { out.append(difference(structName, "size", "\(a.size)", "\(b.size)")) }
            if a.align != b.align { out.append(difference(structName, "align", "\(a.align)", "\(b.align)")) }
            let names = a.fields.map(\.name) + b.fields.map(\.name).filter { a.field($0) == nil }
            for name in names {
                let item = "\(kind.rawValue).\(name)"
                switch (a.field(name), b.field(name)) {
                case let (x?, y?):
                    // A bit-field is placed by its bit offset (its byte offset follows); any other field by its offset.
                    if x.isBitField || y.isBitField {
                        if x.bitOffset != y.bitOffset { out.append(difference(item, "bit_offset", "\(x.bitOffset)", "\(y.bitOffset)")) }
                        if x.bitWidth != y.bitWidth { out.append(difference(item, "bit_width", "\(x.bitWidth)", "\(y.bitWidth)")) }
                    } else if x.offset != y.offset {
                        out.append(difference(item, "offset", "\(x.offset)", "\(y.offset)"))
                    }
                    if x.size != y.size { out.append(difference(item, "size", "\(x.size)", "\(y.size)")) }
                case (_?, nil):
                    if !partial { out.append(difference(item, "present", "yes", "no")) }
                case (nil, _?):
                    out.append(difference(item, "present", "no", "yes"))
                case (nil, nil):
                    break
                }
            }
        }
        return out
    }

    /// The differences as a table, one row per value, for the terminal.
    public static func table(_ differences: [LayoutDifference]) -> String {
        let header = ["target", "field", "what", "expected", "found", "found by"]
        let rows = differences.map { d in
            [d.target.description, d.item, d.property, "\(d.expected) (\(d.reference))", d.actual, d.source]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
