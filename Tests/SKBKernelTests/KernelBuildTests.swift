import Foundation
import SKBDiff
import SKBKernel
import SKBLayout
import SKBuff
import Testing

/// What building a kernel worker needs that the Swift toolchain brings: its clang (and lld) and its libclang.
enum Toolchain {
    static let clang = I386Worker.findClang(environment: ProcessInfo.processInfo.environment)
    static let libclang: LibClang? = try? LibClang.locate()
    static var available: Bool { clang != nil && libclang != nil }
    static let creference = I386Worker.packageCReference
    /// A build directory of the test's own.
    static func cache() throws -> String {
        let dir = NSTemporaryDirectory() + "skbdiff-kernel-build-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Cutting the functions out and building them, on small trees the tests write (Specs/kernel.md,
/// "How the code is cut out"). Needs the toolchain's clang and libclang, which a machine with the
/// Swift toolchain has.
@Suite("Kernel extraction and build", .enabled(if: Toolchain.available, "needs the Swift toolchain's clang and libclang"))
struct KernelBuildTests {
    /// A header with an inline helper that calls into skbuff.c, and a skbuff.c whose helper needs a
    /// static function and a file-scope variable, beside one nothing needs (and that would not
    /// compile) and a prototype.
    static let header = """
        struct sk_buff { unsigned int len; struct sk_buff *next; };
        extern unsigned int helper_len(const struct sk_buff *skb);
        static inline unsigned int skb_len_of(const struct sk_buff *skb) { return helper_len(skb); }

        """
    static let code = """
        #include <linux/skbuff.h>

        static int counter;
        static unsigned int twice(unsigned int x);

        int unused_function(void)
        {
        \treturn undefined_thing;
        }

        static unsigned int twice(unsigned int x)
        {
        \treturn 2 * x;
        }

        unsigned int helper_len(const struct sk_buff *skb)
        {
        \tcounter++;
        \treturn twice(skb->len);
        }

        """

    func tree(code: String = KernelBuildTests.code) throws -> KernelTree {
        try KernelTree(path: try writeTree([
            "Makefile": makefile(2, 6, 24), "include/linux/skbuff.h": Self.header,
            "net/core/skbuff.c": code, "net/core/kmap_skb.h": "\n",
        ]))
    }

    @Test func theRootsNeedsAreCutOutWholeInFileOrder() throws {
        let tree = try tree()
        let x = try KernelBuild.extract(tree: tree, creference: Toolchain.creference, generated: try Toolchain.cache(),
                                        roots: [("skb_len_of", "len")], libclang: Toolchain.libclang!)
        #expect(x.pieces.map(\.name) == ["counter", "twice", "helper_len"])
        #expect(x.functionNames == ["twice", "helper_len"])
        #expect(x.headerFunctions == ["skb_len_of"])
        let helper = try #require(x.pieces.last)
        #expect(helper.text == "unsigned int helper_len(const struct sk_buff *skb)\n{\n\tcounter++;\n\treturn twice(skb->len);\n}")
        #expect(helper.line == 16)
        #expect(x.pieces[0].text == "static int counter;")
        #expect(!x.pieces.contains { $0.text.contains("undefined_thing") })
    }

    /// A root the tree does not define is named, with the operation that needs it.
    @Test func anUnknownFunctionIsNamed() throws {
        let tree = try tree()
        do {
            _ = try KernelBuild.extract(tree: tree, creference: Toolchain.creference, generated: try Toolchain.cache(),
                                        roots: [("skb_len_of", "len"), ("skb_frobnicate", "frobnicate")], libclang: Toolchain.libclang!)
            Issue.record("a root the tree lacks was not reported")
        } catch {
            #expect("\(error)".contains("define no skb_frobnicate (for frobnicate)"))
            #expect("\(error)".contains("net/core/skbuff.c"))
        }
    }

    /// A syntax error in a function taken is reported by the build at its place in the tree.
    @Test func aSyntaxErrorIsReportedAtItsLineInTheTree() throws {
        let broken = Self.code.replacingOccurrences(of: "\treturn twice(skb->len);", with: "\treturn twice(skb->len) + ;")
        let tree = try tree(code: broken)
        do {
            _ = try KernelBuild.build(tree: tree, arch: .x86_64, creference: Toolchain.creference, clang: Toolchain.clang!,
                                      cacheDirectory: try Toolchain.cache(), roots: [("skb_len_of", "len")]) { Toolchain.libclang! }
            Issue.record("a tree with a syntax error built")
        } catch {
            #expect("\(error)".contains("net/core/skbuff.c:19:"), "\(error)")
            #expect("\(error)".contains("error"))
        }
    }
}
