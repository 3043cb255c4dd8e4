import CLibClang
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// libclang, loaded at run time with dlopen, as LLVM's Python bindings do: a fresh machine has the
// Swift toolchain's libclang.so but no clang-c headers, so the few declarations used are our own, in
// C (Sources/CLibClang/include/CLibClang.h): the by-value structs CXString, CXCursor and CXType, and
// one function-pointer type per libclang function. Each dlsym'ed symbol is cast to its imported
// @convention(c) type, so Swift calls libclang with C's own layouts and calling convention.

/// CXCursor, as the layout reader spells it.
typealias CXCursor = SKBCXCursor
/// CXType, as the layout reader spells it.
typealias CXType = SKBCXType

/// enum CXCursorKind values the reader looks at.
enum CXCursorKind {
    static let structDecl: Int32 = 2
    static let unionDecl: Int32 = 3
    static let fieldDecl: Int32 = 6
    static let typedefDecl: Int32 = 20
}

/// enum CXChildVisitResult.
enum CXChildVisit {
    static let `continue`: Int32 = 1
}

/// A loaded libclang: the functions the layout reader calls, resolved once.
public final class LibClang: @unchecked Sendable {
    /// The file dlopen loaded.
    public let path: String
    /// clang_getClangVersion(), e.g. "Debian clang version 14.0.6".
    public private(set) var version = ""
    /// clang's own headers (stddef.h, stdint.h), passed as -resource-dir when found beside the library.
    /// Newer libclangs (the Swift toolchain's 21) do not find them from a dlopen'ed path by themselves.
    public private(set) var resourceDirectory: String?

    let createIndex: skb_clang_createIndex_fn
    let disposeIndex: skb_clang_disposeIndex_fn
    let parseTranslationUnit: skb_clang_parseTranslationUnit_fn
    let disposeTranslationUnit: skb_clang_disposeTranslationUnit_fn
    let getNumDiagnostics: skb_clang_getNumDiagnostics_fn
    let getDiagnostic: skb_clang_getDiagnostic_fn
    let disposeDiagnostic: skb_clang_disposeDiagnostic_fn
    let getDiagnosticSeverity: skb_clang_getDiagnosticSeverity_fn
    let formatDiagnostic: skb_clang_formatDiagnostic_fn
    let defaultDiagnosticDisplayOptions: skb_clang_defaultDiagnosticDisplayOptions_fn
    let getCString: skb_clang_getCString_fn
    let disposeString: skb_clang_disposeString_fn
    let getClangVersion: skb_clang_getClangVersion_fn
    let getTranslationUnitCursor: skb_clang_getTranslationUnitCursor_fn
    let visitChildren: skb_clang_visitChildren_fn
    let getCursorSpelling: skb_clang_getCursorSpelling_fn
    let getCursorType: skb_clang_getCursorType_fn
    let isCursorDefinition: skb_clang_isCursorDefinition_fn
    let typeGetSizeOf: skb_clang_Type_getSizeOf_fn
    let typeGetAlignOf: skb_clang_Type_getAlignOf_fn
    let typeGetOffsetOf: skb_clang_Type_getOffsetOf_fn
    let cursorIsBitField: skb_clang_Cursor_isBitField_fn
    let getFieldDeclBitWidth: skb_clang_getFieldDeclBitWidth_fn
    let cursorIsAnonymousRecordDecl: skb_clang_Cursor_isAnonymousRecordDecl_fn
    let getTypedefDeclUnderlyingType: skb_clang_getTypedefDeclUnderlyingType_fn
    let getCursorExtent: skb_clang_getCursorExtent_fn
    let getRangeStart: skb_clang_getRangeStart_fn
    let getRangeEnd: skb_clang_getRangeEnd_fn
    let getFileLocation: skb_clang_getFileLocation_fn
    let getCursorLocation: skb_clang_getCursorLocation_fn
    let getFileName: skb_clang_getFileName_fn
    let getCursorReferenced: skb_clang_getCursorReferenced_fn
    let getTypeSpelling: skb_clang_getTypeSpelling_fn

    /// libclang's thread-safety rules are subtle and a parse takes milliseconds: one at a time in
    /// the process, whichever libclang parses.
    static let lock = NSLock()

    private init(path: String, handle: UnsafeMutableRawPointer) throws {
        self.path = path
        func symbol<F>(_ name: String, _: F.Type = F.self) throws -> F {
            guard let p = dlsym(handle, name) else {
                throw LayoutError(.libclang, "\(path) has no \(name): it is not libclang, or one older than LLVM 9. "
                                  + LibClang.installAdvice)
            }
            return unsafeBitCast(p, to: F.self)
        }
        createIndex = try symbol("clang_createIndex")
        disposeIndex = try symbol("clang_disposeIndex")
        parseTranslationUnit = try symbol("clang_parseTranslationUnit")
        disposeTranslationUnit = try symbol("clang_disposeTranslationUnit")
        getNumDiagnostics = try symbol("clang_getNumDiagnostics")
        getDiagnostic = try symbol("clang_getDiagnostic")
        disposeDiagnostic = try symbol("clang_disposeDiagnostic")
        getDiagnosticSeverity = try symbol("clang_getDiagnosticSeverity")
        formatDiagnostic = try symbol("clang_formatDiagnostic")
        defaultDiagnosticDisplayOptions = try symbol("clang_defaultDiagnosticDisplayOptions")
        getCString = try symbol("clang_getCString")
        disposeString = try symbol("clang_disposeString")
        getClangVersion = try symbol("clang_getClangVersion")
        getTranslationUnitCursor = try symbol("clang_getTranslationUnitCursor")
        visitChildren = try symbol("clang_visitChildren")
        getCursorSpelling = try symbol("clang_getCursorSpelling")
        getCursorType = try symbol("clang_getCursorType")
        isCursorDefinition = try symbol("clang_isCursorDefinition")
        typeGetSizeOf = try symbol("clang_Type_getSizeOf")
        typeGetAlignOf = try symbol("clang_Type_getAlignOf")
        typeGetOffsetOf = try symbol("clang_Type_getOffsetOf")
        cursorIsBitField = try symbol("clang_Cursor_isBitField")
        getFieldDeclBitWidth = try symbol("clang_getFieldDeclBitWidth")
        cursorIsAnonymousRecordDecl = try symbol("clang_Cursor_isAnonymousRecordDecl")
        getTypedefDeclUnderlyingType = try symbol("clang_getTypedefDeclUnderlyingType")
        getCursorExtent = try symbol("clang_getCursorExtent")
        getRangeStart = try symbol("clang_getRangeStart")
        getRangeEnd = try symbol("clang_getRangeEnd")
        getFileLocation = try symbol("clang_getFileLocation")
        getCursorLocation = try symbol("clang_getCursorLocation")
        getFileName = try symbol("clang_getFileName")
        getCursorReferenced = try symbol("clang_getCursorReferenced")
        getTypeSpelling = try symbol("clang_getTypeSpelling")
        version = string(getClangVersion())
        resourceDirectory = LibClang.resourceDirectory(beside: path, version: version)
    }

    /// <library dir>/clang/<N>/ holding include/stddef.h, N of the library's major version, looked
    /// for beside the path as given and beside the file it resolves to.
    static func resourceDirectory(beside path: String, version: String) -> String? {
        guard let range = version.range(of: "version "),
              let major = Int(version[range.upperBound...].prefix(while: \.isNumber)) else { return nil }
        var directories = [(path as NSString).deletingLastPathComponent]
        if let real = realpath(path, nil) {
            directories.append((String(cString: real) as NSString).deletingLastPathComponent)
            free(real)
        }
        for directory in directories {
            for candidate in glob("\(directory)/clang/\(major)*") where ((candidate as NSString).lastPathComponent).split(separator: ".").first == "\(major)" {
                if FileManager.default.fileExists(atPath: "\(candidate)/include/stddef.h") { return candidate }
            }
        }
        return nil
    }

    static let installAdvice = "Install Debian's libclang (apt-get install libclang-dev), or set LIBCLANG_PATH to a "
        + "libclang.so or the directory holding it (the Swift toolchain ships one in usr/lib)."
    /// When LIBCLANG_PATH itself is wrong.
    static let explicitPathAdvice = "Point LIBCLANG_PATH at a libclang.so or the directory holding one, or unset it to use "
        + "Debian's libclang-dev (apt-get install libclang-dev) or the Swift toolchain's libclang."

    /// dlopen one file. The library stays loaded for the life of the process (LLVM does not unload cleanly).
    public static func load(path: String) throws -> LibClang {
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw LayoutError(.libclang, "cannot load \(path): \(reason)")
        }
        return try LibClang(path: path, handle: handle)
    }

    /// The first loadable libclang of `search`'s candidates.
    public static func locate(_ search: LibClangSearch = LibClangSearch()) throws -> LibClang {
        let candidates = try search.candidates()
        var failures: [String] = []
        for candidate in candidates {
            do {
                return try load(path: candidate)
            } catch let error as LayoutError {
                failures.append(error.message)
            }
        }
        if let explicit = search.explicitPath {
            throw LayoutError(.libclang, "LIBCLANG_PATH=\(explicit) names no loadable libclang:\n  "
                              + failures.joined(separator: "\n  ") + "\n" + explicitPathAdvice)
        }
        let tried = failures.isEmpty ? "" : "\nFound but not loadable:\n  " + failures.joined(separator: "\n  ")
        throw LayoutError(.libclang, "no libclang found (looked at LIBCLANG_PATH, unset; "
                          + search.systemPatterns.joined(separator: ", ") + "; usr/lib/libclang.so beside the swift on PATH; "
                          + search.toolchainFallbacks.joined(separator: ", ") + ")." + tried + "\n" + installAdvice)
    }

    // MARK: Calls with Swift types

    func string(_ s: SKBCXString) -> String {
        defer { disposeString(s) }
        return getCString(s).map { String(cString: $0) } ?? ""
    }

    func spelling(_ c: CXCursor) -> String { string(getCursorSpelling(c)) }
    func type(_ c: CXCursor) -> CXType { getCursorType(c) }
    func isDefinition(_ c: CXCursor) -> Bool { isCursorDefinition(c) != 0 }
    func isBitField(_ c: CXCursor) -> Bool { cursorIsBitField(c) != 0 }
    func bitWidth(_ c: CXCursor) -> Int { Int(getFieldDeclBitWidth(c)) }
    func isAnonymousRecord(_ c: CXCursor) -> Bool { cursorIsAnonymousRecordDecl(c) != 0 }
    func underlyingType(_ c: CXCursor) -> CXType { getTypedefDeclUnderlyingType(c) }
    func sizeOf(_ t: CXType) -> Int64 { typeGetSizeOf(t) }
    func alignOf(_ t: CXType) -> Int64 { typeGetAlignOf(t) }
    func offsetOf(_ t: CXType, _ field: String) -> Int64 { typeGetOffsetOf(t, field) }
    func rootCursor(_ tu: OpaquePointer) -> CXCursor { getTranslationUnitCursor(tu) }

    /// A location in its file: the file's name, line and byte offset (a macro's expansion site).
    public struct FileLocation: Hashable, Sendable {
        public var file: String
        public var line: Int
        public var offset: Int
    }

    func fileLocation(_ l: SKBCXSourceLocation) -> FileLocation {
        var file: SKBCXFile?
        var line: UInt32 = 0, column: UInt32 = 0, offset: UInt32 = 0
        getFileLocation(l, &file, &line, &column, &offset)
        return FileLocation(file: file.map { string(getFileName($0)) } ?? "", line: Int(line), offset: Int(offset))
    }

    /// Where a cursor's source text starts and ends (the end is one past its last character).
    func extent(_ c: CXCursor) -> (start: FileLocation, end: FileLocation) {
        let r = getCursorExtent(c)
        return (fileLocation(getRangeStart(r)), fileLocation(getRangeEnd(r)))
    }

    func location(_ c: CXCursor) -> FileLocation { fileLocation(getCursorLocation(c)) }
    func referenced(_ c: CXCursor) -> CXCursor { getCursorReferenced(c) }
    func typeSpelling(_ t: CXType) -> String { string(getTypeSpelling(t)) }

    /// Every cursor below `parent`, depth first (clang_visitChildren with CXChildVisit_Recurse).
    func descendants(_ parent: CXCursor) -> [CXCursor] {
        final class Collector { var cursors: [CXCursor] = [] }
        let collector = Collector()
        let visitor: SKBCXCursorVisitor = { cursor, _, context in
            Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue().cursors.append(cursor)
            return 2 // CXChildVisit_Recurse
        }
        withExtendedLifetime(collector) {
            _ = visitChildren(parent, visitor, Unmanaged.passUnretained(collector).toOpaque())
        }
        return collector.cursors
    }

    /// The direct children of a cursor, in source order (clang_visitChildren with CXChildVisit_Continue).
    /// The collector reaches the C visitor, which can capture nothing, through client_data.
    func children(_ parent: CXCursor) -> [CXCursor] {
        final class Collector { var cursors: [CXCursor] = [] }
        let collector = Collector()
        let visitor: SKBCXCursorVisitor = { cursor, _, context in
            Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue().cursors.append(cursor)
            return CXChildVisit.continue
        }
        withExtendedLifetime(collector) {
            _ = visitChildren(parent, visitor, Unmanaged.passUnretained(collector).toOpaque())
        }
        return collector.cursors
    }
}

/// Where libclang is looked for, in order:
/// 1. `LIBCLANG_PATH`: a file, or a directory holding libclang.so / libclang-N.so; nothing else when set;
/// 2. Debian's libclang-dev: /usr/lib/llvm-*/lib/libclang.so*, then /usr/lib/<multiarch>/libclang-*.so*,
///    newest LLVM first;
/// 3. the Swift toolchain's: usr/lib/libclang.so beside the `swift` found on PATH, then /opt/swift/usr/lib.
public struct LibClangSearch: Sendable {
    public var environment: [String: String]
    public var systemPatterns: [String]
    public var toolchainFallbacks: [String]

    public static let defaultSystemPatterns = ["/usr/lib/llvm-*/lib/libclang.so*", "/usr/lib/\(multiarch)/libclang-*.so*"]
    public static let defaultToolchainFallbacks = ["/opt/swift/usr/lib/libclang.so"]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                systemPatterns: [String] = LibClangSearch.defaultSystemPatterns,
                toolchainFallbacks: [String] = LibClangSearch.defaultToolchainFallbacks) {
        self.environment = environment
        self.systemPatterns = systemPatterns
        self.toolchainFallbacks = toolchainFallbacks
    }

    #if arch(arm64)
    static let multiarch = "aarch64-linux-gnu"
    #else
    static let multiarch = "x86_64-linux-gnu"
    #endif

    /// LIBCLANG_PATH, when set and not empty.
    public var explicitPath: String? {
        environment["LIBCLANG_PATH"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The files to try, best first. Throws when LIBCLANG_PATH names nothing usable.
    public func candidates() throws -> [String] {
        if let explicit = explicitPath {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: explicit, isDirectory: &isDirectory) else {
                throw LayoutError(.libclang, "LIBCLANG_PATH=\(explicit): no such file or directory. " + LibClang.explicitPathAdvice)
            }
            guard isDirectory.boolValue else { return [explicit] }
            // The unversioned libclang.so (what a -dev package installs) first, then the versioned ones.
            let found = LibClangSearch.unique(glob((explicit as NSString).appendingPathComponent("libclang.so"))
                + LibClangSearch.newestFirst(["libclang.so.*", "libclang-[0-9]*.so*"].flatMap { glob((explicit as NSString).appendingPathComponent($0)) }))
            guard !found.isEmpty else {
                throw LayoutError(.libclang, "LIBCLANG_PATH=\(explicit) is a directory without libclang.so or libclang-N.so. "
                                  + LibClang.explicitPathAdvice)
            }
            return found
        }
        return LibClangSearch.unique(systemLibraries() + toolchainLibraries())
    }

    /// Debian's libclang libraries the system patterns find, newest LLVM first; libclang-cpp (which
    /// other packages pull in without libclang-dev) matches the patterns but is not one.
    public func systemLibraries() -> [String] {
        LibClangSearch.newestFirst(systemPatterns.flatMap(glob))
    }

    /// libclang.so of the toolchain whose `swift` is on PATH, then the fallbacks, those that exist.
    public func toolchainLibraries() -> [String] {
        var found: [String] = []
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let swift = "\(directory)/swift"
            guard access(swift, X_OK) == 0, let real = realpath(swift, nil) else { continue }
            defer { free(real) }
            // <toolchain>/usr/bin/swift -> <toolchain>/usr/lib/libclang.so
            let bin = (String(cString: real) as NSString).deletingLastPathComponent
            found.append(((bin as NSString).deletingLastPathComponent as NSString).appendingPathComponent("lib/libclang.so"))
            break
        }
        return LibClangSearch.unique(found + toolchainFallbacks).filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Sorted by LLVM major version (from llvm-N or libclang-N or libclang.so.N), newest first, keeping
    /// the given order among equals; libclang-cpp (the C++ API) is not libclang.
    static func newestFirst(_ paths: [String]) -> [String] {
        func major(_ path: String) -> Int {
            for marker in ["llvm-", "libclang-", "libclang.so."] {
                if let range = path.range(of: marker, options: .backwards),
                   let n = Int(path[range.upperBound...].prefix(while: \.isNumber)) {
                    return n
                }
            }
            return 0
        }
        let libraries = paths.filter { !($0 as NSString).lastPathComponent.hasPrefix("libclang-cpp") }
        return libraries.enumerated()
            .sorted { a, b in major(a.element) != major(b.element) ? major(a.element) > major(b.element) : a.offset < b.offset }
            .map(\.element)
    }

    /// Without duplicates (the same file reached through different symbolic links), first one kept:
    /// the path dlopen is given decides where libclang looks for its own headers (stddef.h).
    static func unique(_ paths: [String]) -> [String] {
        var seen = Set<String>()
        return paths.filter { path in
            guard let real = realpath(path, nil) else { return seen.insert(path).inserted }
            defer { free(real) }
            return seen.insert(String(cString: real)).inserted
        }
    }
}

private func glob(_ pattern: String) -> [String] {
    var g = glob_t()
    defer { globfree(&g) }
    guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
    return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
}
