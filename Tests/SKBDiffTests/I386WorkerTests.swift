import Foundation
import SKBDiff
import SKBuff
import Testing

/// The i386 C reference (Specs/snapshot.md, "The i386 C reference"): how skbdiff finds what it needs
/// to build it (fake directory trees), and, built with this machine's Swift toolchain, what it does.
@Suite("i386 worker")
struct I386WorkerTests {
    // MARK: Finding a compiler and the sources (no compiler run)

    /// A temporary directory tree: `files` are made executable scripts, `links` symbolic links.
    func tree(_ files: [String], links: [String: String] = [:]) throws -> String {
        let root = NSTemporaryDirectory() + "skbdiff-worker-tree-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for f in files {
            let path = root + "/" + f
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        }
        for (link, to) in links {
            let path = root + "/" + link
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: root + "/" + to)
        }
        return root
    }

    @Test func clangOnPathIsFoundFirst() throws {
        let root = try tree(["a/clang", "b/clang"])
        #expect(I386Worker.findClang(environment: ["PATH": "\(root)/none:\(root)/a:\(root)/b"]) == "\(root)/a/clang")
    }

    /// The toolchain's usr/bin holds clang beside swift; PATH may only have a link to swift.
    @Test func clangBesideTheSwiftOnPathIsFound() throws {
        let root = try tree(["toolchain/usr/bin/swift", "toolchain/usr/bin/clang"], links: ["bin/swift": "toolchain/usr/bin/swift"])
        let found = I386Worker.findClang(environment: ["PATH": "\(root)/bin"])
        #expect(found.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
                == URL(fileURLWithPath: "\(root)/toolchain/usr/bin/clang").resolvingSymlinksInPath().path)
    }

    @Test func noClangAnywhereIsNil() throws {
        let root = try tree(["bin/swift"])
        #expect(I386Worker.findClang(environment: ["PATH": "\(root)/bin"]) == nil)
        #expect(I386Worker.findClang(environment: ["PATH": "\(root)/bin", "SKBDIFF_CLANG": "\(root)/bin/nothing"]) == nil)
    }

    /// Each way of not having a worker says why and what to do.
    @Test func unavailableSaysWhyAndHow() throws {
        func failure(_ env: [String: String]) -> I386Worker.Unavailable? {
            if case let .failure(u) = I386Worker.locate(environment: env) { return u }
            return nil
        }
        let off = try #require(failure(["SKBDIFF_NO_I386_WORKER": "1"]))
        #expect(off.reason.contains("SKBDIFF_NO_I386_WORKER=1") && off.fix.contains("unset"))
        let missing = try #require(failure(["SKBDIFF_I386_WORKER": "/nonexistent/worker"]))
        #expect(missing.reason.contains("/nonexistent/worker"))
        let empty = try tree([])
        let noSources = try #require(failure(["SKBDIFF_CREFERENCE": empty, "PATH": ""]))
        #expect(noSources.reason.contains(empty) && noSources.fix.contains("SKBDIFF_CREFERENCE"))
        let noClang = try #require(failure(["PATH": empty]))
        #expect(noClang.reason.contains("no clang") && noClang.fix.contains("SKBDIFF_CLANG"))
    }

    /// A compiler that fails is reported with its exit status and first lines, not a crash.
    @Test func aFailingCompilerIsReported() throws {
        let root = try tree([])
        let fake = root + "/clang"
        _ = FileManager.default.createFile(atPath: fake, contents: Data("#!/bin/sh\necho 'fake: cannot target i386' >&2\nexit 3\n".utf8),
                                       attributes: [.posixPermissions: 0o755])
        let r = I386Worker.locate(environment: ["PATH": root])
        guard case let .failure(u) = r else { Issue.record("a failing compiler built a worker"); return }
        #expect(u.reason.contains("exit 3") && u.reason.contains("fake: cannot target i386"), "\(u)")
    }

    // MARK: The worker itself (built with this machine's toolchain: it has clang and lld)

    static let i386 = Target(arch: .i386, config: .minimal, cacheLine: 128)

    func worker() throws -> String {
        switch I386Worker.executable {
        case let .success(path): return path
        case let .failure(u):
            Issue.record("the i386 worker cannot be built here: \(u)")
            throw u
        }
    }

    @Test func i386RunsFourImplementations() throws {
        _ = try worker()
        let d = Differential(target: Self.i386)
        #expect(d.implementations.map(\.name) == ["swift-off", "swift-ptr", "c-off", "c-ptr"])
    }

    /// The issue's figures, from the i386 compiler: sizeof(struct sk_buff) under PTR 152/164/180,
    /// sizeof(struct skb_shared_info) 236, sizeof(sk_buff_data_t) 4 either way.
    @Test(arguments: [(ConfigProfile.minimal, 152), (.typical, 164), (.distro, 180)])
    func compiledSizesAreI386s(_ config: ConfigProfile, _ ptrSize: Int) throws {
        let exe = try worker()
        let ptr = try WorkerImplementation(representation: .pointer, target: Target(arch: .i386, config: config), executable: exe)
        let off = try WorkerImplementation(representation: .offset, target: Target(arch: .i386, config: config), executable: exe)
        #expect(ptr.sizing.skBuff == UInt32(ptrSize) && ptr.sizing.sharedInfo == 236 && ptr.sizing.dataT == 4)
        #expect(off.sizing.skBuff == ptr.sizing.skBuff && off.sizing.dataT == 4)
    }

    /// Worked by hand (Specs/snapshot.md, "One call"): the arena starts at 0xC0000000; alloc_skb 65
    /// puts head there; __skb_pull by 2^30 makes data 0xC0000000 + 0x40000000 = 2^32, address 0 on
    /// i386: the kernel's caller gets NULL. data - head is then 2^30, len 0 - 2^30 = 0xC0000000.
    @Test func pullToAddressZeroIsNullInC() throws {
        let exe = try worker()
        for representation in [RepresentationKind.offset, .pointer] {
            let c = try WorkerImplementation(representation: representation, target: Self.i386, executable: exe)
            c.reset()
            #expect(c.run(Call(.alloc_skb, [65]), pattern: 0) == .ok(0))
            #expect(c.run(Call(.__skb_pull, target: 0, [1 << 30]), pattern: 1) == .null)
            var view: [ReferenceState] = []
            c.snapshot(into: &view)
            let s = try #require(view.first)
            #expect(view.count == 1 && s.reference == 0)
            #expect(s.state.data == 1 << 30 && s.state.len == 0xC000_0000)
        }
    }

    /// The whole i386 corpus agrees with the C reference running, expected outcomes and fields included.
    @Test func i386CorpusAgreesOnFourImplementations() throws {
        _ = try worker()
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Specs/seeds").path
        let files = try Replay.files([dir]).filter { (try? Replay.load($0).target.arch) == .i386 }
        #expect(files.count >= 5)
        for file in files {
            let v = try Replay.run(Replay.load(file), path: file)
            #expect(v.result.failure == nil && v.mismatches.isEmpty, "\(file): \(v.mismatches)")
        }
    }

    /// A fault planted in the i386 C reference only is found by the campaign, whose touched mode hands
    /// the worker whole sequences; the finding names the first diverging call (the full re-run).
    @Test func aFaultInTheI386CReferenceIsFound() throws {
        _ = try worker()
        var options = CampaignOptions()
        options.targets = TargetSpace(Self.i386)
        options.iterations = 200
        options.seed = 1
        options.mutant = Mutant(.putGe, .c)
        options.maxDivergences = 1
        let report = try Campaign.run(options)
        let finding = try #require(report.findings.first)
        #expect(finding.failure.kind == .fidelityOffset || finding.failure.kind == .fidelityPointer)
        // The shrunk reproducer fails at its last call, where skb_put meets its boundary.
        #expect(finding.failure.step == finding.seedFile.calls.count - 1)
        #expect(finding.seedFile.calls.last?.op == .skb_put || finding.seedFile.calls.last?.op == .__skb_put)
    }

    /// The worker answers a batch with one digest per sequence: a sequence whose records differ from
    /// what its Swift side expects fails alone, and the ones after it in the batch still pass. With
    /// put-ge planted in the C reference, an exact-fit skb_put panics there: alloc_skb 128 ends its
    /// data at 128 (SKB_DATA_ALIGN with 128-byte lines), so skb_put 128 meets end exactly.
    @Test func aDifferingSequenceFailsAloneInItsBatch() throws {
        _ = try worker()
        let d = Differential(target: Self.i386)
        d.defersBatches = true
        d.switchOn(Mutant(.putGe, .c))
        let clean = [Call(.alloc_skb, [100]), Call(.skb_reserve, target: 0, [16]), Call(.skb_put, target: 0, [10])]
        let exactFit = [Call(.alloc_skb, [128]), Call(.skb_put, target: 0, [128])]
        for calls in [clean, exactFit, clean, clean] {
            let r = d.run(calls, comparison: .touched)
            #expect(r.failure == nil && !r.rerun)
        }
        #expect(d.pendingCount == 4)
        #expect(d.flushDeferred() == [true, false, true, true])
        // The failing one, re-run in full, names its skb_put.
        let full = d.rerunFull(exactFit)
        #expect(full.failure?.step == 1 && full.failure?.call.op == .skb_put)
    }

    /// Many sequences per request, or one: the same counts, whatever the number of jobs.
    @Test func batchingAndJobsChangeNothing() throws {
        _ = try worker()
        var options = CampaignOptions()
        options.targets = TargetSpace(arch: .i386)
        options.iterations = 1200
        options.seed = 77
        options.jobs = 1
        let one = try Campaign.run(options)
        options.jobs = 2
        let two = try Campaign.run(options)
        func withoutElapsed(_ r: CampaignReport) throws -> NSDictionary {
            var d = try #require(try JSONSerialization.jsonObject(with: Data(Report.json(r).utf8)) as? [String: Any])
            d["elapsed_seconds"] = nil
            return d as NSDictionary
        }
        #expect(try withoutElapsed(one) == withoutElapsed(two))
        #expect(one.counts.iterations == 1200)
        // Sequence by sequence (no batching) against the campaign's batched run.
        var perSequence = SequenceResult()
        var batchedOutcomes: [[Outcome?]] = []
        var singleOutcomes: [[Outcome?]] = []
        for i in UInt64(0)..<64 {
            let d = Differential(target: Self.i386)
            let g = Generator(target: Self.i386, maxOps: 32)
            var o = CampaignOptions()
            o.seed = 77
            Campaign.runIteration(i, options: o, differential: d, generator: g, into: &perSequence)
            #expect(perSequence.failure == nil)
            singleOutcomes.append(perSequence.outcomes)
            batchedOutcomes.append(d.run(perSequence.calls, comparison: .full).outcomes)
        }
        #expect(batchedOutcomes == singleOutcomes)
    }
}
