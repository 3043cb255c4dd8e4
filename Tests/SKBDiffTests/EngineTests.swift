import SKBDiff
import SKBuff
import Testing

/// The Swift OFF model with a planted bug: skb_pull of exactly 7 bytes from an skb holding at least
/// 20 reports a wrong pointer.
final class PlantedBug: Forwarding {
    let model: SwiftImplementation<OffsetRepresentation>

    init() {
        let model = SwiftImplementation<OffsetRepresentation>(target: Target())
        self.model = model
        super.init(model)
    }

    override func run(_ call: Call, pattern: UInt32) -> Outcome? {
        var lenBefore: UInt32 = 0
        if call.op == .skb_pull, let skb = model.skb(call.target) { lenBefore = model.kernel[skb].len }
        let outcome = model.run(call, pattern: pattern)
        return outcome != nil && call.op == .skb_pull && call.arg0 == 7 && lenBefore >= 20 ? .ok(999) : outcome
    }
}

@Suite("The engine: shrinking, sequences, determinism")
struct EngineTests {
    func plantedDifferential() -> Differential {
        let t = Target()
        return Differential(target: t, implementations: [PlantedBug(), SwiftImplementation<PointerRepresentation>(target: t),
                                                         CImplementation(representation: .offset, target: t),
                                                         CImplementation(representation: .pointer, target: t)])
    }

    @Test("a planted disagreement shrinks to its known minimal sequence")
    func shrinkPlanted() throws {
        let long = try SeedFile.parse("""
            # skbdiff seed 1
            # target: arch=x86_64
            alloc_skb 300
            alloc_skb_fclone 64
            skb_reserve skb0 32
            skb_clone skb1
            skb_put skb0 90
            skb_reset_mac_header skb0
            skb_get skb0
            skb_push skb0 4
            kfree_skb skb3
            skb_put skb1 10
            skb_pull skb0 7
            skb_trim skb0 3
            """, file: "long").calls
        let d = plantedDifferential()
        let first = d.run(long)
        #expect(first.failure?.kind == .fidelityOffset)
        let shrunk = try #require(Shrinker(differential: d).shrink(long, kind: .fidelityOffset))
        #expect(shrunk.calls.map(SeedFile.render) == ["alloc_skb 1", "skb_put skb0 20", "skb_pull skb0 7"])
        #expect(shrunk.failure.kind == .fidelityOffset && shrunk.failure.step == 2)
    }

    @Test("a sequence that does not fail does not shrink")
    func shrinkNothing() {
        let d = Differential(target: Target())
        #expect(Shrinker(differential: d).shrink([Call(.alloc_skb, [10])], kind: .representation) == nil)
    }

    @Test("removing a call that made a reference drops the calls on it and renumbers the rest")
    func sequenceEdit() {
        let calls = [Call(.alloc_skb, [1]), Call(.alloc_skb, [2]), Call(.skb_clone, target: 0), Call(.skb_put, target: 2, [3]),
                     Call(.skb_put, target: 1, [4])]
        let edited = SequenceEdit.removing(calls, [0])
        #expect(edited == [Call(.alloc_skb, [2]), Call(.skb_put, target: 0, [4])])
    }

    @Test("iteration i depends on (seed, i) only: the same counts and findings whatever --jobs is")
    func determinismAcrossJobs() throws {
        let (one, three) = try twoCampaigns(seed: 0x5eed, jobs: 1) { $0.jobs = 3 }
        expectSameCalls(one, three)
        #expect(one.counts.quirkCounts == three.counts.quirkCounts)
        #expect(one.findings.map { $0.seedFile.render() } == three.findings.map { $0.seedFile.render() })
        var options = CampaignOptions()
        options.iterations = 1500
        options.seed = 0x5eee
        #expect(try Campaign.run(options).counts.opCounts != one.counts.opCounts)
    }

    @Test("shards split the iteration space into disjoint slices that cover it")
    func shards() {
        var options = CampaignOptions()
        options.iterations = 1001
        var covered: [UInt64] = []
        for k in 1...3 {
            options.shard = (k, 3)
            covered += Array(options.range)
        }
        #expect(covered == Array(0..<1001))
    }

    @Test("the generator reaches every helper and every outcome kind within a short campaign")
    func generatorCoverage() throws {
        var options = CampaignOptions()
        options.iterations = 4000
        options.seed = 11
        options.jobs = 2
        let r = try Campaign.run(options)
        let never = Operation.allCases.filter { r.counts.opCounts[$0.rawValue] == 0 }.map(\.name)
        #expect(never.isEmpty, "never generated: \(never)")
        #expect(!r.counts.outcomeCounts.contains(0), "\(r.counts.outcomeCounts)")
    }

    @Test("the flags the hot path reads as switches are the catalogue's")
    func hotFlagsAreTheCatalogues() {
        for op in Operation.allCases {
            #expect(op.takesTarget == op.info.takesTarget, "takesTarget of \(op.name)")
            #expect(op.effect == op.info.effect, "effect of \(op.name)")
        }
    }

    @Test("short campaigns on every architecture and profile find no divergence outside the catalogue",
          arguments: [Target(arch: .x86_64, config: .minimal), Target(arch: .x86_64, config: .distro, cacheLine: 16),
                      Target(arch: .i386, config: .minimal), Target(arch: .i386, config: .typical, cacheLine: 64)])
    func cleanCampaign(target: Target) throws {
        var options = CampaignOptions()
        options.target = target
        options.iterations = 3000
        options.seed = 0xC1EA
        options.jobs = 2
        let r = try Campaign.run(options)
        #expect(r.counts.divergences == 0, "\(r.findings.map { Report.oneLine($0.failure) })")
        #expect(r.counts.quirkCounts.reduce(0, +) > 0, "the quirks are met, and explained")
    }

    @Test("the JSON summary has the promised keys")
    func json() throws {
        var options = CampaignOptions()
        options.iterations = 50
        let text = Report.json(try Campaign.run(options))
        for key in ["\"iterations\"", "\"operations\"", "\"divergences\"", "\"quirks\"", "\"op_counts\"", "\"seed\"", "\"elapsed_seconds\""] {
            #expect(text.contains(key), "missing \(key)")
        }
    }

    @Test("a divergence report shows the sequence and marks the differing fields")
    func divergenceReport() throws {
        let d = plantedDifferential()
        let calls = [Call(.alloc_skb, [1]), Call(.skb_put, target: 0, [20]), Call(.skb_pull, target: 0, [7])]
        let failure = try #require(d.run(calls).failure)
        let text = Report.divergence(failure, calls: calls)
        #expect(text.contains("skb_pull skb0 7    <-- differs here"))
        #expect(text.contains("*  outcome"))
        #expect(text.contains("ok 999"))
    }
}
