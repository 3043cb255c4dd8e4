import Foundation
import SKBDiff
import SKBKernel
import SKBLayout
import SKBuff
import Testing

/// Trees the tests write: a directory with the given files (path relative to the root: text).
func writeTree(_ files: [String: String]) throws -> String {
    let root = NSTemporaryDirectory() + "skbdiff-kernel-tree-\(UUID().uuidString)"
    for (path, text) in files {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    return root
}

/// A top Makefile naming a version, as a kernel tree's first lines do.
func makefile(_ version: Int, _ patchlevel: Int, _ sublevel: Int, extra: String = "") -> String {
    "VERSION = \(version)\nPATCHLEVEL = \(patchlevel)\nSUBLEVEL = \(sublevel)\nEXTRAVERSION =\(extra.isEmpty ? "" : " " + extra)\nNAME = Test\n"
}

/// Reading a tree (Specs/kernel.md, "What is read from the tree"): no compiler, no libclang.
@Suite("Kernel tree")
struct KernelTreeTests {
    static let complete = [
        "Makefile": makefile(2, 6, 24),
        "include/linux/skbuff.h": "/* header */\n",
        "net/core/skbuff.c": "/* code */\n",
        "net/core/kmap_skb.h": "/* kmap */\n",
    ]

    @Test func aCompleteTreeReadsItsVersion() throws {
        let root = try writeTree(Self.complete)
        let tree = try KernelTree(path: root)
        #expect(tree.version == "2.6.24")
        #expect(tree.versionWarning == nil)
        #expect(tree.root == URL(fileURLWithPath: root).standardizedFileURL.path)
    }

    /// Each missing file is named, with what a tree must have.
    @Test func aTreeLackingFilesIsRefusedNamingThem() throws {
        var files = Self.complete
        files["net/core/kmap_skb.h"] = nil
        files["include/linux/skbuff.h"] = nil
        let root = try writeTree(files)
        do {
            _ = try KernelTree(path: root)
            Issue.record("a tree without skbuff.h and kmap_skb.h was accepted")
        } catch {
            #expect(error.description.contains("lacks include/linux/skbuff.h, net/core/kmap_skb.h"))
            #expect(error.description.contains(root))
        }
        #expect(throws: KernelTree.Failure.self) { try KernelTree(path: root + "/nonexistent") }
    }

    /// Another version is accepted, with a warning naming both.
    @Test func anotherVersionIsWarnedAbout() throws {
        var files = Self.complete
        files["Makefile"] = makefile(2, 6, 25, extra: "-rc3")
        let tree = try KernelTree(path: try writeTree(files))
        #expect(tree.version == "2.6.25-rc3")
        let warning = try #require(tree.versionWarning)
        #expect(warning.contains("2.6.25-rc3") && warning.contains("2.6.24"))
    }

    @Test func aMakefileWithoutAVersionIsRefused() throws {
        var files = Self.complete
        files["Makefile"] = "all:\n\techo nothing\n"
        let root = try writeTree(files)
        do {
            _ = try KernelTree(path: root)
            Issue.record("a Makefile without VERSION was accepted")
        } catch {
            #expect(error.description.contains("Makefile") && error.description.contains("VERSION"))
        }
    }

    @Test func theOptionWinsOverTheEnvironment() {
        #expect(KernelTree.named(option: "/a", environment: ["SKBDIFF_KERNEL_TREE": "/b"]) == "/a")
        #expect(KernelTree.named(option: nil, environment: ["SKBDIFF_KERNEL_TREE": "/b"]) == "/b")
        #expect(KernelTree.named(option: nil, environment: ["SKBDIFF_KERNEL_TREE": ""]) == nil)
    }
}
