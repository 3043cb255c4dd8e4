import Foundation
import SKBuff

/// The header the checker parses: CReference/include/CSKBuff.h, or the one given with --header.
public struct LayoutHeader: Sendable, Hashable {
    public var path: String
    /// Passed as -I: the header's own directory, where skbref_common.h and skbuff_struct.h live.
    public var includeDirectory: String

    public init(path: String) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        self.path = absolute
        self.includeDirectory = (absolute as NSString).deletingLastPathComponent
    }

    public static let relativePath = "CReference/include/CSKBuff.h"

    /// CReference/include/CSKBuff.h in `directory` or the nearest of its ancestors.
    public static func locate(from directory: String = FileManager.default.currentDirectoryPath) throws -> LayoutHeader {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = url.appendingPathComponent(relativePath).path
            if FileManager.default.fileExists(atPath: candidate) { return LayoutHeader(path: candidate) }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { break }
            url = parent
        }
        throw LayoutError(.usage, "no \(relativePath) in \(directory) or above it: run inside the skbdiff package, or pass --header PATH")
    }
}

/// What libclang read for one target, with the warnings clang printed on the way.
public struct ClangReading: Sendable {
    public var layout: TargetLayout
    public var warnings: [ClangDiagnostic]
    /// Each field's C type as clang spells it ("sk_buff_data_t", "unsigned char *"), per struct.
    public var types: [LayoutStructKind: [String: String]] = [:]
}

extension LibClang {
    /// Parses `header` for `target` and reads struct sk_buff, struct skb_shared_info and
    /// sizeof(sk_buff_data_t). Any error-severity diagnostic is thrown with every diagnostic attached:
    /// a layout read from a header clang did not accept would be a guess.
    public func readLayout(_ target: LayoutTarget, header: LayoutHeader, arguments extra: [String]? = nil) throws -> ClangReading {
        guard FileManager.default.isReadableFile(atPath: header.path) else {
            throw LayoutError(.header, "\(header.path): no such readable file")
        }
        LibClang.lock.lock()
        defer { LibClang.lock.unlock() }

        guard let index = createIndex(0, 0) else { throw LayoutError(.libclang, "\(path): clang_createIndex failed") }
        defer { disposeIndex(index) }
        let arguments = (extra ?? target.clangArguments(includeDirectory: header.includeDirectory))
            + (resourceDirectory.map { ["-resource-dir", $0] } ?? [])
        let cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        defer { cArguments.forEach { free($0) } }
        let argv: [UnsafePointer<CChar>?] = cArguments.map { UnsafePointer($0) }
        let unit: OpaquePointer? = argv.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            header.path.withCString { file -> OpaquePointer? in
                parseTranslationUnit(index, file, buffer.baseAddress, Int32(buffer.count), nil, 0, 0)
            }
        }
        guard let unit else {
            throw LayoutError(.header, "libclang could not parse \(header.path) for \(target) (clang \(arguments.joined(separator: " ")))")
        }
        defer { disposeTranslationUnit(unit) }

        let diagnostics = self.diagnostics(unit)
        let errors = diagnostics.filter { $0.severity >= .error }
        if !errors.isEmpty {
            let worst = errors.map(\.severity).max()!
            throw LayoutError(.header, "\(header.path): \(errors.count) \(worst)\(errors.count == 1 ? "" : "s") from clang for \(target)",
                              diagnostics: diagnostics)
        }

        var records: [String: CXCursor] = [:]
        var typedefs: [String: CXCursor] = [:]
        for cursor in children(rootCursor(unit)) {
            switch cursor.kind {
            case CXCursorKind.structDecl where isDefinition(cursor): records[spelling(cursor)] = cursor
            case CXCursorKind.typedefDecl: typedefs[spelling(cursor)] = cursor
            default: break
            }
        }
        var structs: [LayoutStructKind: StructLayout] = [:]
        var types: [LayoutStructKind: [String: String]] = [:]
        for kind in LayoutStructKind.allCases {
            guard let cursor = records[kind.rawValue] else {
                throw LayoutError(.header, "\(header.path) defines no struct \(kind.rawValue) for \(target)", diagnostics: diagnostics)
            }
            var t: [String: String] = [:]
            structs[kind] = try layout(of: cursor, name: kind.rawValue, types: &t)
            types[kind] = t
        }
        guard let dataT = typedefs["sk_buff_data_t"] else {
            throw LayoutError(.header, "\(header.path) declares no sk_buff_data_t for \(target)", diagnostics: diagnostics)
        }
        let layout = TargetLayout(target: target, skBuff: structs[.skBuff]!, sharedInfo: structs[.sharedInfo]!,
                                  dataTSize: try checked(sizeOf(underlyingType(dataT)), "sizeof(sk_buff_data_t)"))
        return ClangReading(layout: layout, warnings: diagnostics.filter { $0.severity >= .warning }, types: types)
    }

    private func diagnostics(_ unit: OpaquePointer) -> [ClangDiagnostic] {
        (0..<getNumDiagnostics(unit)).compactMap { i in
            guard let diagnostic = getDiagnostic(unit, i) else { return nil }
            defer { disposeDiagnostic(diagnostic) }
            let severity = ClangDiagnostic.Severity(rawValue: getDiagnosticSeverity(diagnostic)) ?? .fatal
            return ClangDiagnostic(severity: severity, text: string(formatDiagnostic(diagnostic, defaultDiagnosticDisplayOptions())))
        }
    }

    /// Every field in declaration order. Anonymous structs and unions are flattened, as the Swift
    /// engine does: their members are members of the enclosing struct (the csum union). Offsets come
    /// from clang_Type_getOffsetOf on the outermost record, which sees through anonymous members.
    private func layout(of record: CXCursor, name: String, types: inout [String: String]) throws -> StructLayout {
        let type = self.type(record)
        var fields: [LayoutField] = []
        func collect(_ parent: CXCursor) throws {
            for child in children(parent) {
                switch child.kind {
                case CXCursorKind.fieldDecl:
                    let field = spelling(child)
                    guard !field.isEmpty else { continue } // an unnamed bit-field is padding, not a member
                    let bit = try checked(offsetOf(type, field), "offsetof(struct \(name), \(field))")
                    types[field] = typeSpelling(self.type(child))
                    if isBitField(child) {
                        fields.append(LayoutField(name: field, offset: bit / 8, size: 0, bitOffset: bit, bitWidth: bitWidth(child)))
                    } else {
                        let size = try checked(sizeOf(self.type(child)), "sizeof(((struct \(name) *)0)->\(field))")
                        fields.append(LayoutField(name: field, offset: bit / 8, size: size, bitOffset: bit, bitWidth: 0))
                    }
                case CXCursorKind.structDecl, CXCursorKind.unionDecl:
                    if isAnonymousRecord(child) { try collect(child) }
                default:
                    break
                }
            }
        }
        try collect(record)
        return StructLayout(size: try checked(sizeOf(type), "sizeof(struct \(name))"),
                            align: try checked(alignOf(type), "alignof(struct \(name))"), fields: fields)
    }

    /// A clang_Type_get*Of result, or the CXTypeLayoutError it encodes.
    private func checked(_ value: Int64, _ what: String) throws -> Int {
        guard value < 0 else { return Int(value) }
        let reasons: [Int64: String] = [-1: "invalid type", -2: "incomplete type", -3: "dependent type",
                                        -4: "not a constant size", -5: "no such field", -6: "undeduced type"]
        throw LayoutError(.header, "libclang cannot compute \(what): \(reasons[value] ?? "error \(value)")")
    }
}
