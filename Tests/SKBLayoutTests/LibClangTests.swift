import CLibClang
import Foundation
import Glibc
@testable import SKBLayout
import SKBuff
import Testing

/// Loading libclang without headers, and reading the header with it.
@Suite struct LibClangTests {
    /// Every distinct libclang the default search finds: Debian's and the Swift toolchain's here.
    static let libraries: [String] = (try? LibClangSearch().candidates()) ?? []

    @Test func toolchainLibclangIsFound() {
        #expect(LibClangTests.libraries.contains { $0.hasSuffix("/usr/lib/libclang.so") && !$0.hasPrefix("/usr/lib/") },
                "\(LibClangTests.libraries)")
    }

    /// On whatever this machine has: Debian's libclang (when installed) before the toolchain's, and
    /// nothing else. A machine with only the Swift toolchain may still have libclang-cpp, which the
    /// system patterns match; it must not count as Debian's libclang.
    @Test func thisMachinesSearchOrder() {
        let search = LibClangSearch()
        let system = search.systemLibraries(), toolchain = search.toolchainLibraries()
        #expect(LibClangTests.libraries == LibClangSearch.unique(system + toolchain))
        #expect(!system.contains { ($0 as NSString).lastPathComponent.hasPrefix("libclang-cpp") }, "\(system)")
        if let first = system.first {
            #expect(LibClangTests.libraries.first == first && first.hasPrefix("/usr/lib/"))
        } else {
            #expect(LibClangTests.libraries.first == toolchain.first)
        }
    }

    /// The order where both exist, in a fake tree: Debian's newest LLVM first, then the toolchain of
    /// the `swift` on PATH, then the fallbacks; libclang-cpp never; the same file once.
    @Test func debianLibclangComesFirstInAFakeTree() throws {
        try withTemporaryDirectory { root in
            let files = ["usr/lib/llvm-14/lib/libclang.so.1", "usr/lib/llvm-16/lib/libclang.so",
                         "usr/lib/multiarch/libclang-cpp.so.16", "usr/lib/multiarch/libclang-15.so.1",
                         "toolchain/usr/bin/swift", "toolchain/usr/lib/libclang.so", "opt/swift/usr/lib/libclang.so"]
            for file in files {
                let path = root + "/" + file
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                #expect(FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o755]))
            }
            let patterns = [root + "/usr/lib/llvm-*/lib/libclang.so*", root + "/usr/lib/multiarch/libclang-*.so*"]
            let fallbacks = [root + "/opt/swift/usr/lib/libclang.so", root + "/toolchain/usr/lib/libclang.so"]
            let both = LibClangSearch(environment: ["PATH": "/nonexistent:" + root + "/toolchain/usr/bin"],
                                      systemPatterns: patterns, toolchainFallbacks: fallbacks)
            #expect(try both.candidates() == ["llvm-16/lib/libclang.so", "multiarch/libclang-15.so.1", "llvm-14/lib/libclang.so.1"]
                .map { root + "/usr/lib/" + $0 } + [root + "/toolchain/usr/lib/libclang.so", root + "/opt/swift/usr/lib/libclang.so"])

            // A fresh machine: only libclang-cpp of Debian's, so the toolchain's comes first.
            for file in ["usr/lib/llvm-14/lib/libclang.so.1", "usr/lib/llvm-16/lib/libclang.so", "usr/lib/multiarch/libclang-15.so.1"] {
                try FileManager.default.removeItem(atPath: root + "/" + file)
            }
            #expect(both.systemLibraries().isEmpty)
            #expect(try both.candidates() == [root + "/toolchain/usr/lib/libclang.so", root + "/opt/swift/usr/lib/libclang.so"])
        }
    }

    /// Each libclang through LIBCLANG_PATH, as a file and as its directory: all 12 targets agree with the Swift layout.
    @Test(arguments: libraries)
    func everyLibclangAgreesWithSwiftLayout(_ path: String) throws {
        for value in [path, (path as NSString).deletingLastPathComponent] {
            let libclang = try LibClang.locate(LibClangSearch(environment: ["LIBCLANG_PATH": value]))
            #expect(libclang.version.contains("clang version"))
            for target in LayoutTarget.all {
                let reading = try libclang.readLayout(target, header: packageHeader)
                let differences = LayoutComparison.compare(.swiftModel(target), LayoutSourceName.swiftModel,
                                                           with: reading.layout, "libclang \(libclang.version)")
                #expect(differences.isEmpty, describe(differences))
            }
        }
    }

    @Test func libclangPathPointingNowhereSaysWhatToDo() throws {
        let search = LibClangSearch(environment: ["LIBCLANG_PATH": "/nonexistent/libclang.so"])
        let error = try #require(throws: LayoutError.self) { try LibClang.locate(search) }
        #expect(error.kind == .libclang)
        #expect(error.message.contains("LIBCLANG_PATH=/nonexistent/libclang.so: no such file or directory"))
        #expect(error.message.contains("apt-get install libclang-dev"))
    }

    @Test func libclangPathToSomethingElseIsNotLoaded() throws {
        let search = LibClangSearch(environment: ["LIBCLANG_PATH": "/bin/sh"])
        let error = try #require(throws: LayoutError.self) { try LibClang.locate(search) }
        #expect(error.message.contains("names no loadable libclang"))
    }

    @Test func noLibclangAnywhereSaysWhatToInstall() throws {
        let search = LibClangSearch(environment: ["PATH": ""], systemPatterns: ["/nonexistent/llvm-*/lib/libclang.so*"], toolchainFallbacks: [])
        #expect(try search.candidates().isEmpty)
        let error = try #require(throws: LayoutError.self) { try LibClang.locate(search) }
        #expect(error.message.hasPrefix("no libclang found"))
        #expect(error.message.contains("apt-get install libclang-dev"))
        #expect(error.message.contains("LIBCLANG_PATH"))
    }

    @Test func newestLLVMFirstAndNeverLibclangCpp() {
        let sorted = LibClangSearch.newestFirst([
            "/usr/lib/llvm-14/lib/libclang.so.1", "/usr/lib/llvm-16/lib/libclang.so", "/usr/lib/x86_64-linux-gnu/libclang-cpp.so.16",
            "/usr/lib/x86_64-linux-gnu/libclang-15.so.1",
        ])
        #expect(sorted == ["/usr/lib/llvm-16/lib/libclang.so", "/usr/lib/x86_64-linux-gnu/libclang-15.so.1", "/usr/lib/llvm-14/lib/libclang.so.1"])
    }

    /// libclang's by-value structs as Swift imports them from CLibClang.h: C's own sizes, alignments
    /// and member offsets (the 64-bit Linux ABIs, x86_64 and aarch64, lay them out alike).
    @Test(.enabled(if: MemoryLayout<Int>.size == 8, "the sizes are those of a 64-bit host"))
    func declaredStructsHaveLibclangsLayout() {
        #expect(MemoryLayout<SKBCXString>.size == 16 && MemoryLayout<SKBCXString>.alignment == 8)
        #expect(MemoryLayout<SKBCXString>.offset(of: \SKBCXString.private_flags) == 8)
        #expect(MemoryLayout<SKBCXType>.size == 24 && MemoryLayout<SKBCXType>.alignment == 8)
        #expect(MemoryLayout<SKBCXType>.offset(of: \SKBCXType.data) == 8)
        #expect(MemoryLayout<SKBCXCursor>.size == 32 && MemoryLayout<SKBCXCursor>.alignment == 8)
        #expect(MemoryLayout<SKBCXCursor>.offset(of: \SKBCXCursor.xdata) == 4)
        #expect(MemoryLayout<SKBCXCursor>.offset(of: \SKBCXCursor.data) == 8)
        #expect(MemoryLayout<SKBCXUnsavedFile>.size == 24)
        // The reader's names are the declared types, not look-alikes.
        #expect(CXCursor.self == SKBCXCursor.self && CXType.self == SKBCXType.self)
    }

    /// Through the declared function types, each libclang returns CXString (the version), CXCursor
    /// (the visitor's children) and CXType (sizeof) intact: struct sk_buff of CReference's header
    /// has the C compiler's size, field by field in declaration order.
    @Test(arguments: libraries)
    func parseThroughDeclaredTypesYieldsSkBuff(_ path: String) throws {
        let libclang = try LibClang.load(path: path)
        #expect(libclang.version.contains("clang version"))
        for target in LayoutTarget.all where target.arch == .x86_64 {
            let skb = try libclang.readLayout(target, header: packageHeader).layout.skBuff
            let model = TargetLayout.swiftModel(target).skBuff
            #expect(skb.size == model.size && skb.align == model.align, "\(target) with \(libclang.version)")
            if let compiled = CReferenceLayout.compiled(target) {
                #expect(skb.size == compiled.skBuff.size, "\(target): libclang \(skb.size), C compiler \(compiled.skBuff.size)")
            }
            #expect(skb.fields.map(\.name) == model.fields.map(\.name))
            #expect(skb.fields.first?.name == "next" && skb.fields.first?.offset == 0)
        }
    }

    @Test func argumentsFollowTheTarget() {
        let off = LayoutTarget(arch: .i386, representation: .offset, config: .distro).clangArguments(includeDirectory: "/inc")
        let ptr = LayoutTarget(arch: .x86_64, representation: .pointer, config: .minimal).clangArguments(includeDirectory: "/inc")
        #expect(off.contains("-DNET_SKBUFF_DATA_USES_OFFSET") && !ptr.contains("-DNET_SKBUFF_DATA_USES_OFFSET"))
        #expect(off.contains("i386-unknown-linux-gnu") && ptr.contains("x86_64-unknown-linux-gnu"))
        #expect(ConfigProfile.distro.options.allSatisfy { off.contains("-DCONFIG_\($0)") })
        #expect(!ptr.contains { $0.hasPrefix("-DCONFIG_") })
        #expect(off.contains("-ffreestanding") && off.contains("-DSKBREF_LAYOUT_SINGLE"))
    }

    @Test func syntaxErrorIsAnErrorDiagnostic() throws {
        try withTemporaryDirectory { directory in
            let header = directory + "/broken.h"
            try "struct sk_buff {\n    int len\n    int data_len;\n};\n".write(toFile: header, atomically: true, encoding: .utf8)
            let target = LayoutTarget(arch: .x86_64, representation: .offset, config: .minimal)
            let error = try #require(throws: LayoutError.self) { try LibClang.locate().readLayout(target, header: LayoutHeader(path: header)) }
            #expect(error.kind == .header)
            let diagnostic = try #require(error.diagnostics.first { $0.severity == .error })
            #expect(diagnostic.text.hasPrefix(header + ":2:"))
            #expect(diagnostic.text.contains("error: expected ';'"))
            #expect(error.message.contains("1 error from clang for x86_64 OFF minimal"))
        }
    }

    @Test func missingIncludeIsAFatalDiagnostic() throws {
        try withTemporaryDirectory { directory in
            let header = directory + "/CSKBuff.h"
            try "#include \"nowhere.h\"\n".write(toFile: header, atomically: true, encoding: .utf8)
            let target = LayoutTarget(arch: .i386, representation: .pointer, config: .typical)
            let error = try #require(throws: LayoutError.self) { try LibClang.locate().readLayout(target, header: LayoutHeader(path: header)) }
            #expect(error.diagnostics.map(\.severity) == [.fatal])
            #expect(error.description.contains("fatal error: 'nowhere.h' file not found"))
        }
    }

    /// A header clang accepts but that lacks the struct is an error, never an empty layout.
    @Test func headerWithoutTheStructIsAnError() throws {
        try withTemporaryDirectory { directory in
            let header = directory + "/empty.h"
            try "struct sk_buff;\ntypedef unsigned int sk_buff_data_t;\n".write(toFile: header, atomically: true, encoding: .utf8)
            let target = LayoutTarget(arch: .i386, representation: .offset, config: .minimal)
            let error = try #require(throws: LayoutError.self) { try LibClang.locate().readLayout(target, header: LayoutHeader(path: header)) }
            #expect(error.message.contains("defines no struct sk_buff"))
        }
    }

    /// The csum union is flattened: its members at their absolute offsets, overlapping.
    @Test func anonymousUnionIsFlattened() throws {
        let target = LayoutTarget(arch: .i386, representation: .pointer, config: .minimal)
        let skb = try LibClang.locate().readLayout(target, header: packageHeader).layout.skBuff
        let csum = try #require(skb.field("csum")), start = try #require(skb.field("csum_start")), offset = try #require(skb.field("csum_offset"))
        #expect(csum.offset == start.offset && offset.offset == start.offset + 2)
        let hdrLen = try #require(skb.field("hdr_len"))
        #expect(csum.offset == hdrLen.offset + 2)
    }
}
