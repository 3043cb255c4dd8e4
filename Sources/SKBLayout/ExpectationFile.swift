import Foundation
import SKBuff

/// Specs/layouts/<arch>-<representation>-<config>.txt: the layout one target is expected to have,
/// written from libclang once, reviewed, and checked by `swift test` against libclang and the Swift
/// layout engine. Format (Specs/layouts/README.md):
///
///     target x86_64 offset minimal
///     sk_buff_data_t size 4
///     struct sk_buff size 192 align 8
///     next              0     8
///     local_df        140     0  1120:1
///
/// `#` starts a comment. Fields are listed in declaration order under their struct.
public enum ExpectationFile {
    public static let directoryPath = "Specs/layouts"

    public static func fileName(_ target: LayoutTarget) -> String { "\(target.name).txt" }

    /// Specs/layouts in `directory` or the nearest of its ancestors that has one.
    public static func locateDirectory(from directory: String = FileManager.default.currentDirectoryPath) -> String? {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = url.appendingPathComponent(directoryPath).path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue { return candidate }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }

    public static func render(_ layout: TargetLayout) -> String {
        let t = layout.target
        let representation = t.representation == .offset
            ? "sk_buff_data_t is unsigned int (NET_SKBUFF_DATA_USES_OFFSET)"
            : "sk_buff_data_t is unsigned char *"
        var lines = [
            "# The expected layout of one target; format: README.md.",
            "# \(t.arch.triple); \(representation);",
            "# CONFIG profile \(t.config.rawValue): " + (t.config.options.isEmpty ? "no options." : "CONFIG_ " + t.config.options.joined(separator: " ") + "."),
            "# Written from libclang by `skbdiff layout --write-expectations Specs/layouts`: review the diff.",
            "target \(t.arch.rawValue) \(t.representation.rawValue) \(t.config.rawValue)",
            "sk_buff_data_t size \(layout.dataTSize)",
        ]
        for kind in LayoutStructKind.allCases {
            let s = layout[kind]
            lines.append("")
            lines.append("struct \(kind.rawValue) size \(s.size) align \(s.align)")
            let width = max(16, s.fields.map(\.name.count).max() ?? 0)
            lines.append("# " + "name".padding(toLength: width - 2, withPad: " ", startingAt: 0) + "offset  size  bit_offset:bit_width")
            for f in s.fields {
                var line = f.name.padding(toLength: width, withPad: " ", startingAt: 0) + pad(f.offset, 6) + pad(f.size, 6)
                if f.isBitField { line += "  \(f.bitOffset):\(f.bitWidth)" }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    public static func parse(_ text: String, path: String) throws -> TargetLayout {
        var target: LayoutTarget?
        var dataT: Int?
        var structs: [LayoutStructKind: StructLayout] = [:]
        var current: LayoutStructKind?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            func fail(_ message: String) -> LayoutError { LayoutError(.expectations, "\(path):\(lineNumber): \(message)") }
            func int(_ token: Substring) throws -> Int {
                guard let n = Int(token), n >= 0 else { throw fail("'\(token)' is not a number") }
                return n
            }
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let tokens = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let keyword = tokens.first else { continue }
            switch keyword {
            case "target" where current == nil:
                guard tokens.count == 4, let arch = Arch(rawValue: String(tokens[1])),
                      let representation = RepresentationKind(rawValue: String(tokens[2])),
                      let config = ConfigProfile(rawValue: String(tokens[3]))
                else { throw fail("expected 'target ARCH offset|pointer CONFIG'") }
                target = LayoutTarget(arch: arch, representation: representation, config: config)
            case "sk_buff_data_t" where current == nil:
                guard tokens.count == 3, tokens[1] == "size" else { throw fail("expected 'sk_buff_data_t size N'") }
                dataT = try int(tokens[2])
            case "struct":
                guard tokens.count == 6, tokens[2] == "size", tokens[4] == "align",
                      let kind = LayoutStructKind(rawValue: String(tokens[1]))
                else { throw fail("expected 'struct sk_buff|skb_shared_info size N align N'") }
                guard structs[kind] == nil else { throw fail("struct \(kind.rawValue) appears twice") }
                structs[kind] = StructLayout(size: try int(tokens[3]), align: try int(tokens[5]), fields: [])
                current = kind
            default:
                guard let kind = current else { throw fail("'\(keyword)' before any 'struct' line") }
                guard tokens.count == 3 || tokens.count == 4 else { throw fail("expected 'name offset size [bit_offset:bit_width]'") }
                let name = String(tokens[0])
                guard structs[kind]!.field(name) == nil else { throw fail("field \(name) appears twice in struct \(kind.rawValue)") }
                let offset = try int(tokens[1]), size = try int(tokens[2])
                var field = LayoutField(name: name, offset: offset, size: size, bitOffset: offset * 8, bitWidth: 0)
                if tokens.count == 4 {
                    let bits = tokens[3].split(separator: ":")
                    guard bits.count == 2 else { throw fail("expected bit_offset:bit_width, found '\(tokens[3])'") }
                    field.bitOffset = try int(bits[0])
                    field.bitWidth = try int(bits[1])
                    guard field.bitWidth > 0, field.bitOffset / 8 == offset, size == 0 else {
                        throw fail("bit-field \(name): offset must be bit_offset / 8, size 0 and width > 0")
                    }
                }
                structs[kind]!.fields.append(field)
            }
        }
        guard let target else { throw LayoutError(.expectations, "\(path): no 'target' line") }
        guard let dataT else { throw LayoutError(.expectations, "\(path): no 'sk_buff_data_t size' line") }
        guard let skBuff = structs[.skBuff], let sharedInfo = structs[.sharedInfo] else {
            throw LayoutError(.expectations, "\(path): needs both 'struct sk_buff' and 'struct skb_shared_info'")
        }
        return TargetLayout(target: target, skBuff: skBuff, sharedInfo: sharedInfo, dataTSize: dataT)
    }

    /// Reads the file for `target` from `directory`; its target line must name that target.
    public static func read(_ target: LayoutTarget, directory: String) throws -> TargetLayout {
        let path = (directory as NSString).appendingPathComponent(fileName(target))
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LayoutError(.expectations, "\(path): cannot read (regenerate with `skbdiff layout --write-expectations \(directory)`)")
        }
        let layout = try parse(String(decoding: data, as: UTF8.self), path: path)
        guard layout.target == target else {
            throw LayoutError(.expectations, "\(path): describes \(layout.target), expected \(target)")
        }
        return layout
    }

    /// Writes one file per layout into `directory` (created if needed); returns the paths.
    public static func write(_ layouts: [TargetLayout], directory: String) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return try layouts.map { layout in
                let path = (directory as NSString).appendingPathComponent(fileName(layout.target))
                try Data(render(layout).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                return path
            }
        } catch let error as LayoutError {
            throw error
        } catch {
            throw LayoutError(.expectations, "cannot write expectations to \(directory): \(error.localizedDescription)")
        }
    }
}
