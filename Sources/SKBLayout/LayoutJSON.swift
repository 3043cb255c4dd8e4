import Foundation
import SKBuff

/// `skbdiff layout --json`: one record per (arch, representation, config, struct).
public enum LayoutJSON {
    public struct Record: Codable, Hashable, Sendable {
        public var arch: String
        public var representation: String
        public var config: String
        public var `struct`: String
        public var size: Int
        public var align: Int
        public var fields: [Field]
    }

    /// bit_offset and bit_width are present for bit-fields only.
    public struct Field: Codable, Hashable, Sendable {
        public var name: String
        public var offset: Int
        public var size: Int
        public var bit_offset: Int?
        public var bit_width: Int?
    }

    public static func records(_ layouts: [TargetLayout]) -> [Record] {
        layouts.flatMap { layout in
            LayoutStructKind.allCases.map { kind in
                let s = layout[kind]
                return Record(arch: layout.target.arch.rawValue, representation: layout.target.representation.rawValue,
                              config: layout.target.config.rawValue, struct: kind.rawValue, size: s.size, align: s.align,
                              fields: s.fields.map { f in
                                  Field(name: f.name, offset: f.offset, size: f.size,
                                        bit_offset: f.isBitField ? f.bitOffset : nil, bit_width: f.isBitField ? f.bitWidth : nil)
                              })
            }
        }
    }

    public static func encode(_ layouts: [TargetLayout]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(records(layouts)), as: UTF8.self)
    }
}
