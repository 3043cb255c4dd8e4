import Foundation
import SKBDiff
import SKBKernel
import SKBLayout
import SKBuff
import Testing

/// The shared 2.6.24 tree (`../shared/kernel/linux-2.6.24` beside the package, or SKBDIFF_KERNEL_TREE).
enum RealTree {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let path: String? = {
        let candidates = [ProcessInfo.processInfo.environment["SKBDIFF_KERNEL_TREE"], packageRoot + "/../shared/kernel/linux-2.6.24"]
        return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0 + "/net/core/skbuff.c") }
    }()
    static var available: Bool { path != nil && Toolchain.available }
    static let note: Comment = "needs the 2.6.24 tree at ../shared/kernel/linux-2.6.24 or SKBDIFF_KERNEL_TREE, and the toolchain's clang and libclang"

    /// The workers of `tree` for `arches`, built once per tree per test process.
    static func workers(_ tree: KernelTree, _ arches: [Arch]) throws -> [Arch: String] {
        var out: [Arch: String] = [:]
        for arch in arches {
            out[arch] = try KernelBuild.build(tree: tree, arch: arch, creference: Toolchain.creference, clang: Toolchain.clang!,
                                              cacheDirectory: cache) { Toolchain.libclang! }
        }
        return out
    }

    static let cache: String = (try? Toolchain.cache()) ?? NSTemporaryDirectory()

    /// A copy of the tree's four files, with `edit` applied to one of them (path: old text -> new text).
    static func plantedCopy(_ file: String, _ old: String, _ new: String) throws -> KernelTree {
        let source = try KernelTree(path: path!)
        var files: [String: String] = [:]
        for f in KernelTree.files { files[f] = try String(contentsOfFile: source.root + "/" + f, encoding: .utf8) }
        let text = try #require(files[file])
        #expect(text.components(separatedBy: old).count == 2, "the fault is planted at exactly one place")
        files[file] = text.replacingOccurrences(of: old, with: new)
        return try KernelTree(path: try writeTree(files))
    }
}

/// The real tree's own code and header beside the model (Specs/kernel.md). Each test says when it
/// was skipped: without the tree (or the toolchain) it cannot run.
@Suite("The 2.6.24 tree", .enabled(if: RealTree.available, RealTree.note), .serialized)
struct RealTreeTests {
    /// The pieces Specs/kernel.md lists, and nothing else (skb_segment, skb_split, ... are not needed).
    @Test func theExtractionTakesWhatTheOperationsNeed() throws {
        let tree = try KernelTree(path: RealTree.path!)
        #expect(tree.version == "2.6.24" && tree.versionWarning == nil)
        let x = try KernelBuild.extract(tree: tree, creference: Toolchain.creference, generated: try Toolchain.cache(),
                                        libclang: Toolchain.libclang!)
        #expect(Set(x.pieces.map(\.name)) == [
            "skbuff_head_cache", "skbuff_fclone_cache", "__alloc_skb", "skb_drop_list", "skb_drop_fraglist",
            "skb_clone_fraglist", "skb_release_data", "kfree_skbmem", "skb_release_all", "__kfree_skb", "kfree_skb",
            "__copy_skb_header", "__skb_clone", "skb_clone", "copy_skb_header", "skb_copy", "pskb_copy", "pskb_expand_head",
            "skb_realloc_headroom", "skb_copy_expand", "skb_pad", "___pskb_trim", "__pskb_pull_tail", "skb_copy_bits", "skb_init",
        ])
        #expect(x.pieces.count == 25)
        // In file order, each with its first line.
        #expect(x.pieces.map(\.line) == x.pieces.map(\.line).sorted())
        #expect(x.pieces.first { $0.name == "skb_pad" }?.text.hasPrefix("int skb_pad(struct sk_buff *skb, int pad)") == true)
        #expect(x.headerFunctions.contains("skb_put") && x.headerFunctions.contains("pskb_trim"))
    }

    /// The whole corpus agrees with the tree's code on both arches.
    @Test func theCorpusAgreesWithTheKernel() throws {
        let tree = try KernelTree(path: RealTree.path!)
        let workers = try RealTree.workers(tree, Arch.allCases)
        let files = try Replay.files([RealTree.packageRoot + "/Specs/seeds"])
        #expect(files.count > 40)
        var lacking = 0
        for file in files {
            let seed = try Replay.load(file)
            let verdict = try Replay.run(seed, path: file, kernelWorkers: workers)
            #expect(verdict.agrees, "\(file): \(verdict.mismatches)")
            if verdict.result.lacking { lacking += 1 }
        }
        // The seeds that call alloc_skb_from_cache, which 2.6.24 lacks, and only those.
        #expect(lacking == files.filter { (try? String(contentsOfFile: $0, encoding: .utf8))?.contains("alloc_skb_from_cache") == true }.count)
    }

    /// A campaign over every target compares the kernel on almost every sequence and agrees.
    @Test func aCampaignAgreesWithTheKernel() throws {
        let tree = try KernelTree(path: RealTree.path!)
        var options = CampaignOptions()
        options.iterations = 3072
        options.seed = 23
        options.jobs = 2
        options.kernelWorkers = try RealTree.workers(tree, Arch.allCases)
        let report = try Campaign.run(options)
        #expect(report.counts.divergences == 0, "\(report.findings.map { Report.oneLine($0.failure) })")
        #expect(report.counts.kernel)
        #expect(report.counts.kernelSequences * 100 >= report.counts.iterations * 95)
        #expect(report.counts.kernelSequences < report.counts.iterations || report.counts.opCounts[Operation.alloc_skb_from_cache.rawValue] == 0)
    }

    /// A changed comparison in one helper of a copy of skbuff.c is found by a campaign: skb_pad's
    /// `skb_tailroom(skb) >= pad` made `>`, which pads a fresh clone to exactly its tailroom by
    /// expanding the head instead (Specs/mutants.txt's pad-gt, here in the kernel's own code).
    @Test func aFaultPlantedInTheTreesCodeIsFound() throws {
        let planted = try RealTree.plantedCopy("net/core/skbuff.c", "skb_tailroom(skb) >= pad", "skb_tailroom(skb) > pad")
        var options = CampaignOptions()
        options.iterations = 20_000
        options.seed = 7
        options.jobs = 2
        options.target = Target(arch: .x86_64, config: .minimal, cacheLine: 128)
        options.maxDivergences = 1
        options.kernelWorkers = try RealTree.workers(planted, [.x86_64])
        let report = try Campaign.run(options)
        let finding = try #require(report.findings.first, "the planted fault was not found in 20,000 iterations")
        #expect([.kernelOffset, .kernelPointer].contains(finding.failure.kind))
        #expect(finding.seedFile.calls.contains { $0.op == .skb_pad || $0.op == .skb_padto })
    }

    /// A field added to struct sk_buff in a copy of skbuff.h is found by the layout check, on every target.
    @Test func aFieldAddedToTheHeaderIsFoundByLayout() throws {
        let planted = try RealTree.plantedCopy("include/linux/skbuff.h", "\t__u32\t\t\tpriority;\n", "\t__u32\t\t\tpriority;\n\t__u32\t\t\tplanted;\n")
        var options = LayoutCheckOptions(directory: RealTree.packageRoot)
        options.kernel = KernelHeaderSource(treeRoot: planted.root, creference: Toolchain.creference)
        let report = try LayoutCheck.run(options)
        let kernelDifferences = report.differences.filter { $0.source == LayoutSourceName.kernelTree }
        #expect(Set(kernelDifferences.map(\.target)).count == 12)
        #expect(kernelDifferences.contains { $0.item == "sk_buff.planted" })
        #expect(report.text.contains("<<< differs"))
        // And the tree as it is agrees.
        options.kernel = KernelHeaderSource(treeRoot: RealTree.path!, creference: Toolchain.creference)
        let clean = try LayoutCheck.run(options)
        #expect(clean.differences.isEmpty, "\(clean.differences)")
        #expect(clean.text.contains("__be32 ip6_frag_id;") && clean.text.contains("skb_frag_t frags[18];"))
    }
}
