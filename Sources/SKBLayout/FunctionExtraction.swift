import Foundation

/// enum CXCursorKind values the function extractor looks at.
private enum ExtractKind {
    static let functionDecl: Int32 = 8
    static let varDecl: Int32 = 9
    static let declRefExpr: Int32 = 101
}

/// Named function definitions cut out of one C file by libclang (`--kernel-tree`, Specs/kernel.md):
/// each piece is the exact text of a definition, from the start of its extent to its end, with where
/// it came from. The pieces are what a set of root functions needs from the file: the roots, and
/// every function and file-scope variable of the file that they (or the inline functions of the
/// headers they call) refer to, transitively, in file order.
public struct FunctionExtraction: Sendable {
    public struct Piece: Sendable, Hashable {
        public var name: String
        public var isFunction: Bool
        /// 1-based line of the piece's first character in `file`.
        public var line: Int
        /// The definition's text (a variable's declaration gets its `;` back).
        public var text: String
    }

    public var file: String
    public var pieces: [Piece]
    /// The definitions the roots reached outside `file` (in the headers), by name: the tree's inline helpers.
    public var headerFunctions: [String]

    /// The functions among the pieces (what a variant renames).
    public var functionNames: [String] { pieces.filter(\.isFunction).map(\.name) }
}

extension LibClang {
    /// Parse `file` with `arguments` and cut out what `roots` need. A root defined neither in the file
    /// nor in a header it includes is an error naming it (and `why[root]`, what needs it). Functions
    /// in `provided` are never taken from the file (the caller defines them). Errors clang reports in
    /// parts of the file nothing needs do not matter; an error inside a piece is the build's to report.
    public func extractFunctions(file: String, arguments: [String], roots: [String], why: [String: String] = [:],
                                 provided: Set<String> = []) throws -> FunctionExtraction {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw LayoutError(.header, "\(file): no such readable file")
        }
        let bytes = [UInt8](data)
        LibClang.lock.lock()
        defer { LibClang.lock.unlock() }
        guard let index = createIndex(0, 0) else { throw LayoutError(.libclang, "\(path): clang_createIndex failed") }
        defer { disposeIndex(index) }
        let all = arguments + ["-ferror-limit=0"] + (resourceDirectory.map { ["-resource-dir", $0] } ?? [])
        let cArguments: [UnsafeMutablePointer<CChar>?] = all.map { strdup($0) }
        defer { cArguments.forEach { free($0) } }
        let argv: [UnsafePointer<CChar>?] = cArguments.map { UnsafePointer($0) }
        let unit: OpaquePointer? = argv.withUnsafeBufferPointer { buffer in
            file.withCString { parseTranslationUnit(index, $0, buffer.baseAddress, Int32(buffer.count), nil, 0, 0) }
        }
        guard let unit else {
            throw LayoutError(.header, "libclang could not parse \(file) (clang \(all.joined(separator: " ")))")
        }
        defer { disposeTranslationUnit(unit) }

        // Top-level definitions: the file's (to cut) and the headers' (to look through).
        let realFile = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        func inFile(_ l: FileLocation) -> Bool {
            l.file == file || URL(fileURLWithPath: l.file).resolvingSymlinksInPath().path == realFile
        }
        struct Definition { var cursor: CXCursor; var isFunction: Bool; var start: Int; var end: Int; var line: Int }
        var fileDefinitions: [String: Definition] = [:]
        var headerDefinitions: [String: CXCursor] = [:]
        for cursor in children(rootCursor(unit)) {
            let isFunction = cursor.kind == ExtractKind.functionDecl
            guard isFunction || cursor.kind == ExtractKind.varDecl else { continue }
            let name = spelling(cursor)
            let (start, end) = extent(cursor)
            if inFile(start) {
                // A variable counts if declared at file scope in the file; a function if defined there.
                guard !isFunction || isDefinition(cursor), end.offset > start.offset, end.offset <= bytes.count else { continue }
                if let old = fileDefinitions[name], old.isFunction, !isFunction { continue }
                fileDefinitions[name] = Definition(cursor: cursor, isFunction: isFunction, start: start.offset, end: end.offset,
                                                   line: start.line)
            } else if isFunction && isDefinition(cursor) {
                headerDefinitions[name] = cursor
            }
        }

        var missing: [String] = []
        var wanted = Set<String>()
        var seenHeader = Set<String>()
        var work: [CXCursor] = []
        func want(_ name: String) -> Bool {
            if provided.contains(name) { return true }
            if let d = fileDefinitions[name] {
                if wanted.insert(name).inserted { work.append(d.cursor) }
                return true
            }
            if let h = headerDefinitions[name] {
                if seenHeader.insert(name).inserted { work.append(h) }
                return true
            }
            return false
        }
        for root in roots where !want(root) { missing.append(root) }
        if !missing.isEmpty {
            let named = missing.map { name in why[name].map { "\(name) (for \($0))" } ?? name }
            throw LayoutError(.header, "\(file) and the headers it includes define no "
                              + named.joined(separator: ", "))
        }
        while let cursor = work.popLast() {
            for child in descendants(cursor) where child.kind == ExtractKind.declRefExpr {
                let target = referenced(child)
                guard target.kind == ExtractKind.functionDecl || target.kind == ExtractKind.varDecl else { continue }
                _ = want(spelling(target))
            }
        }

        // File order; a variable declared with others in one declaration is cut once.
        var pieces: [FunctionExtraction.Piece] = []
        var cut: [(start: Int, end: Int)] = []
        for (name, d) in fileDefinitions.filter({ wanted.contains($0.key) }).sorted(by: { $0.value.start < $1.value.start }) {
            if let last = cut.last, d.start < last.end { continue }
            var text = String(decoding: bytes[d.start..<d.end], as: UTF8.self)
            if !d.isFunction { text += ";" }
            pieces.append(.init(name: name, isFunction: d.isFunction, line: d.line, text: text))
            cut.append((d.start, d.end))
        }
        return FunctionExtraction(file: file, pieces: pieces, headerFunctions: seenHeader.sorted())
    }
}
