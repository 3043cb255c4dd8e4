import Foundation
@testable import SKBDiff
import SKBuff
import Testing

/// External implementations over the line protocol (Specs/protocol.md): the hello, the comparison,
/// and a program's bad behaviour, with small programs the tests write (sh is on every machine; the
/// Python example when python3 is).
@Suite("External implementations")
struct ExternalTests {
    static let target = Target(arch: .x86_64, config: .minimal, cacheLine: 128)
    static let linearOps: Set<SKBDiff.Operation> = [.alloc_skb, .skb_reserve, .skb_put, .skb_push, .skb_pull, .skb_trim,
                                                    .skb_headroom, .skb_tailroom, .kfree_skb]

    /// A sh program that says `hello`, answers `ready` to a target and `body` (sh case arms) to calls.
    static func script(_ dir: String, _ name: String, hello: String, calls body: String) throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        try """
        read line
        echo "\(hello)"
        while read line; do
          case "$line" in
            target*) echo ready ;;
            \(body)
          esac
        done
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return "sh \(path)"
    }

    /// A campaign on the test's target comparing `spec`, drawing alloc_skb and skb_put only.
    static func campaign(_ spec: ExternalSpec, iterations: UInt64, seed: UInt64) -> CampaignOptions {
        var options = CampaignOptions()
        options.target = target
        options.iterations = iterations
        options.seed = seed
        options.externals = [spec]
        options.operations = [.alloc_skb, .skb_put]
        return options
    }

    static let lenHello = "hello version=1 ops=alloc_skb,skb_put arches=x86_64 representations=off fields=len,end"

    // MARK: The hello

    @Test func helloSaysWhatItHas() throws {
        let c = try ExternalCapabilities.parse(hello: "hello version=1 ops=alloc_skb,skb_put arches=x86_64 representations=off fields=tail,len")
        #expect(c.operations == [.alloc_skb, .skb_put])
        #expect(c.arches == [.x86_64] && c.representations == [.offset])
        // Catalogue order, whatever order the program gave.
        #expect(c.fields == ["tail", "len"])
        let all = try ExternalCapabilities.parse(hello: "hello version=1 ops=all")
        #expect(all.operations.count == SKBDiff.Operation.allCases.count && all.fields == SKBState.fieldNames)
        #expect(all.arches.count == 2 && all.representations == [.offset, .pointer])
    }

    @Test(arguments: [
        ("hi there", "as its hello"),
        ("hello version=2 ops=alloc_skb", "protocol version 2"),
        ("hello version=1 ops=alloc_skbb", "operation 'alloc_skbb'"),
        ("hello version=1 ops=alloc_skb fields=lenn", "field 'lenn'"),
        ("hello version=1 ops=alloc_skb arches=arm", "arch 'arm'"),
        ("hello version=1 ops=alloc_skb colour=blue", "key 'colour'"),
        ("hello version=1", "no operations"),
    ])
    func aBadHelloIsNamed(_ hello: String, _ expected: String) {
        #expect(throws: ExternalError.self) { try ExternalCapabilities.parse(hello: hello) }
        do {
            _ = try ExternalCapabilities.parse(hello: hello)
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    /// Reply values are read as seed files write them (StateExpectation.parseValue), from bytes.
    @Test func valuesAreReadAsSeedFilesWriteThem() {
        func v(_ s: String) -> StateExpectation.FieldValue? {
            var t = s
            return t.withUTF8 { ExternalImplementation.value($0) }
        }
        #expect(v("0") == .int(0) && v("-12") == .int(-12) && v("4294967295") == .int(4_294_967_295))
        #expect(v("0xffffffffffffffff") == .int(-1) && v("0x10") == .int(16) && v("-0x10") == .int(-16))
        #expect(v("unset") == .word("unset") && v("wild") == .word("wild") && v("none") == .word("none"))
        #expect(v("12a") == nil && v("") == nil && v("wildly") == nil && v("99999999999999999999") == nil && v("0x") == nil)
        for s in ["0", "-12", "0x1f", "18446744073709551615", "unset", "none", "x", "--1"] {
            #expect(v(s) == StateExpectation.parseValue(s), "\(s)")
        }
    }

    @Test func aProgramThatCannotStartIsAnError() throws {
        do {
            _ = try ExternalSpec.connect(name: "gone", command: "exit 7", timeout: 2)
            Issue.record("connected to a program that exited")
        } catch {
            #expect(error.description.contains("gone") && error.description.contains("exited with status 7"), "\(error.description)")
        }
    }

    // MARK: Comparing

    /// By hand (x86_64, minimal, SMP_CACHE_BYTES 128): alloc_skb 100 gives end = SKB_DATA_ALIGN(100)
    /// = 128 and len 0; skb_put 28 returns the old tail (ok 0) and makes len 28. A program that says
    /// so agrees; one that says len 29 after the put is an `external` divergence at call 1 on skb0's
    /// len alone, and the report shows the fields it does not give as '-'.
    @Test func aProgramIsJudgedByTheModel() throws {
        try withTemporaryDirectory { dir in
            let right = try ExternalSpec.connect(name: "right", command: Self.script(dir, "right.sh", hello: Self.lenHello, calls: """
                alloc_skb*) echo "=> ok | skb0 len=0 end=128" ;;
                skb_put*) echo "=> ok 0 | skb0 len=28 end=128" ;;
                """), timeout: 5)
            let wrong = try ExternalSpec.connect(name: "wrong", command: Self.script(dir, "wrong.sh", hello: Self.lenHello, calls: """
                alloc_skb*) echo "=> ok | skb0 len=0 end=128" ;;
                skb_put*) echo "=> ok 0 | skb0 len=29 end=128" ;;
                """), timeout: 5)
            let calls = [Call(.alloc_skb, [100]), Call(.skb_put, target: 0, [28])]
            for comparison in Differential.Comparison.allCases {
                let ok = Differential(target: Self.target, externals: [right]).run(calls, comparison: comparison)
                #expect(ok.failure == nil)
                #expect(ok.externals == [ExternalTally(name: "right-off", calls: 2, whole: true, failed: false)])
                let bad = Differential(target: Self.target, externals: [wrong]).run(calls, comparison: comparison)
                let f = try #require(bad.failure)
                #expect(f.kind == .external && f.step == 1)
                #expect(f.differences == [FieldDifference(reference: 0, field: "len")])
                #expect(Report.oneLine(f) == "external wrong-off at call 1 (skb_put skb0 28): len differ")
                let table = Report.table(f)
                let lenRow = try #require(table.split(separator: "\n").first { $0.contains(" len ") })
                #expect(lenRow.hasPrefix("*") && lenRow.hasSuffix("29"), "\(lenRow)")
                let csumRow = try #require(table.split(separator: "\n").first { $0.contains(" csum ") })
                #expect(csumRow.hasSuffix("-"), "\(csumRow)")
            }
            // Not compared on i386, which it does not have.
            #expect(Differential(target: Target(arch: .i386, config: .minimal, cacheLine: 128), externals: [right]).externals.isEmpty)
        }
    }

    /// A finding of an external implementation is saved like any other: its seed file replays it
    /// (with the program) and its picture gives the program's reply.
    @Test func aFindingIsSavedWithItsPicture() throws {
        try withTemporaryDirectory { dir in
            let spec = try ExternalSpec.connect(name: "wrong", command: Self.script(dir, "wrong.sh", hello: Self.lenHello, calls: """
                alloc_skb*) echo "=> ok | skb0 len=1 end=128" ;;
                skb_put*) echo "=> ok 0 | skb0 len=29 end=128" ;;
                """), timeout: 5)
            var options = Self.campaign(spec, iterations: 20, seed: 5)
            options.outDirectory = (dir as NSString).appendingPathComponent("findings")
            options.maxDivergences = 1
            let report = try Campaign.run(options)
            let finding = try #require(report.findings.first)
            let path = try #require(finding.path)
            // By hand: the first call is an allocation, where the program says len 1 and the model 0.
            #expect(finding.seedFile.calls.count == 1 && finding.failure.kind == .external)
            let svg = try String(contentsOfFile: (path as NSString).deletingPathExtension + ".svg", encoding: .utf8)
            #expect(svg.contains("wrong-off replied: =&gt; ok | skb0 len=1 end=128") || svg.contains("wrong-off replied: => ok | skb0 len=1 end=128"))
            let verdict = try Replay.run(Replay.load(path), path: path, externals: [spec])
            #expect(!verdict.agrees && verdict.result.failure?.kind == .external)
            #expect(try Replay.run(Replay.load(path), path: path, externals: []).agrees)
        }
    }

    /// Shards of a campaign with a program add up to the whole campaign's counts, with `merge`.
    @Test func shardsMergeTheirCounts() throws {
        try withTemporaryDirectory { dir in
            let spec = try ExternalSpec.connect(name: "small", command: Self.script(dir, "small.sh", hello: Self.lenHello, calls: """
                alloc_skb*) echo "=> ok | skb0 len=0 end=128" ;;
                *) echo unsupported ;;
                """), timeout: 5)
            func summary(_ k: Int, of n: Int) throws -> String {
                var options = CampaignOptions()
                options.target = Self.target
                options.iterations = 40
                options.seed = 11
                options.shard = (k, n)
                options.externals = [spec]
                // (Its allocations all say end 128: some sequences diverge, and all count.)
                options.maxDivergences = 1000
                return Report.json(try Campaign.run(options))
            }
            func counts(_ json: String) throws -> [String: Int] {
                let o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
                return try #require((o?["external_compared"] as? [String: Any])?["small-off"] as? [String: Int])
            }
            let whole = try counts(try summary(1, of: 1))
            let merged = try counts(try SummaryMerge.merge([("a", try summary(1, of: 2)), ("b", try summary(2, of: 2))]).json)
            #expect(whole == merged && whole["sequences"] == 40 && (whole["calls"] ?? 0) >= 40)
        }
    }

    /// `.touched` sends calls ahead of their replies (a window at a time): a long sequence agrees
    /// call for call, a wrong reply deep in it is found at its call, and a program that says
    /// unsupported with calls still owed is in step for the next sequence.
    @Test func callsSentAheadStayInStep() throws {
        try withTemporaryDirectory { dir in
            // By hand: alloc_skb 100 gives len 0 and end SKB_DATA_ALIGN(100) = 128; skb_headroom is
            // then 0 and changes nothing.
            func program(_ name: String, wrongAt: Int = 0, unsupportedAt: Int = 0) throws -> ExternalSpec {
                try ExternalSpec.connect(name: name, command: Self.script(dir, "\(name).sh", hello: Self.lenHello.replacingOccurrences(of: "skb_put", with: "skb_headroom"), calls: """
                    alloc_skb*) n=0; echo "=> ok | skb0 len=0 end=128" ;;
                    skb_headroom*) n=$((n+1))
                      if [ $n = \(wrongAt) ]; then echo "=> ok 1 | skb0 len=0 end=128"
                      elif [ $n = \(unsupportedAt) ]; then echo unsupported
                      else echo "=> ok 0 | skb0 len=0 end=128"; fi ;;
                    """), timeout: 10)
            }
            let calls = [Call(.alloc_skb, [100])] + Array(repeating: Call(.skb_headroom, target: 0), count: 79)
            let ok = Differential(target: Self.target, externals: [try program("right")]).run(calls, comparison: .touched)
            #expect(ok.failure == nil && ok.externals == [ExternalTally(name: "right-off", calls: 80, whole: true, failed: false)])
            // The 70th skb_headroom is call 70.
            let bad = Differential(target: Self.target, externals: [try program("wrong", wrongAt: 70)]).run(calls, comparison: .touched)
            #expect(bad.rerun && bad.failure?.kind == .external && bad.failure?.step == 70)
            // Unsupported at the 17th skb_headroom, with the rest of the first window sent ahead:
            // compared up to it; the next sequence finds the program in step.
            let d = Differential(target: Self.target, externals: [try program("short", unsupportedAt: 17)])
            let cut = d.run(Array(calls.prefix(40)), comparison: .touched)
            #expect(cut.failure == nil && cut.externals == [ExternalTally(name: "short-off", calls: 17, whole: false, failed: false)])
            let again = d.run(Array(calls.prefix(3)), comparison: .touched)
            #expect(again.failure == nil && again.externals == [ExternalTally(name: "short-off", calls: 3, whole: true, failed: false)])
        }
    }

    /// A sequence calling an operation the program lacks stops being compared for it there; it is
    /// compared whole otherwise, and the generator draws what it lacks rarely.
    @Test func anOperationItLacksEndsItsComparison() throws {
        try withTemporaryDirectory { dir in
            let spec = try ExternalSpec.connect(name: "small", command: Self.script(dir, "small.sh", hello: Self.lenHello, calls: """
                alloc_skb*) echo "=> ok | skb0 len=0 end=128" ;;
                *) echo unsupported ;;
                """), timeout: 5)
            let d = Differential(target: Self.target, externals: [spec])
            let r = d.run([Call(.alloc_skb, [100]), Call(.skb_reserve, target: 0, [16]), Call(.skb_put, target: 0, [28])])
            #expect(r.failure == nil)
            #expect(r.externals == [ExternalTally(name: "small-off", calls: 1, whole: false, failed: false)])
            // skb_put it has, but says unsupported: also the end of its comparison.
            let r2 = d.run([Call(.alloc_skb, [100]), Call(.skb_put, target: 0, [28])])
            #expect(r2.externals == [ExternalTally(name: "small-off", calls: 1, whole: false, failed: false)])
            #expect(d.generator(maxOps: 8).rare.contains(.skb_reserve))
            #expect(!d.generator(maxOps: 8).rare.contains(.skb_put))
        }
    }

    // MARK: Bad behaviour

    /// Garbage, an early exit, a crash and silence past the timeout each end the sequence for the
    /// program with a message naming it, the call and what happened; nothing is a divergence, and
    /// the next sequence starts the program again. (Only the silent one gets a short timeout,
    /// once started: a loaded machine may be slow to start a program.)
    @Test(arguments: [
        ("garbage", "echo garbage", "sent 'garbage'"),
        ("exit", "exit 3", "exited with status 3"),
        ("crash", "kill -SEGV $$", "signal 11"),
        ("silent", "sleep 30", "sent nothing for 0.3 s"),
        ("badfield", "echo \"=> ok | skb0 len=0 tail=0\"", "field 'tail', which its hello did not name"),
        ("lacking", "echo \"=> ok | skb0 len=0\"", "skb0 lacks end"),
    ])
    func badBehaviourEndsTheSequenceOnly(_ name: String, _ arm: String, _ expected: String) throws {
        try withTemporaryDirectory { dir in
            var spec = try ExternalSpec.connect(name: name, command: Self.script(dir, "\(name).sh", hello: Self.lenHello, calls: """
                alloc_skb*) \(arm) ;;
                """), timeout: 10)
            if name == "silent" { spec.timeout = 0.3 }
            let d = Differential(target: Self.target, externals: [spec])
            for _ in 0..<2 {
                let started = Date()
                let r = d.run([Call(.alloc_skb, [100]), Call(.skb_put, target: 0, [28])])
                // Never waits for the sleep, whatever the machine.
                #expect(Date().timeIntervalSince(started) < 10)
                #expect(r.failure == nil)
                #expect(r.externals == [ExternalTally(name: "\(name)-off", calls: 0, whole: false, failed: true)])
                let message = try #require(d.externals.first?.failure)
                #expect(message.contains("\(name)-off") && message.contains("'alloc_skb 100'") && message.contains(expected), "\(message)")
            }
        }
    }

    /// A campaign with a program that fails goes on, starting it again for every sequence, and
    /// counts the failures.
    @Test func aCampaignCountsFailures() throws {
        try withTemporaryDirectory { dir in
            let spec = try ExternalSpec.connect(name: "flaky", command: Self.script(dir, "flaky.sh", hello: Self.lenHello, calls: """
                alloc_skb*) exit 1 ;;
                """), timeout: 5)
            let report = try Campaign.run(Self.campaign(spec, iterations: 60, seed: 3))
            let counts = try #require(report.counts.externals["flaky-off"])
            #expect(report.counts.divergences == 0)
            // Every sequence starts with an allocation: each one ends the program, which starts again.
            #expect(counts == ExternalCounts(sequences: 60, whole: 0, calls: 0, failures: 60))
        }
    }

    // MARK: The example (Examples/python/linear_skb.py)

    static var python: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var example: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/python/linear_skb.py").path
    }

    /// The example agrees over a campaign on its operations (all x86_64 targets); with its planted
    /// off-by-one (skb_put panics at tail == end) the campaign finds it, in one cause, shrunk to
    /// at most 3 calls (by hand: alloc_skb N; skb_put skb0 SKB_DATA_ALIGN(N) is the shortest).
    @Test(.enabled(if: python != nil, "python3 is not on PATH: the Python example is not run"))
    func theExampleAgreesAndItsPlantedFaultIsFound() throws {
        let good = try ExternalSpec.connect(name: "py", command: "\(Self.python!) \(Self.example)", timeout: 10)
        var options = CampaignOptions()
        options.targets = TargetSpace(arch: .x86_64, config: nil, cacheLine: nil)
        options.iterations = 1500
        options.seed = 7
        options.jobs = 2
        options.externals = [good]
        options.operations = Self.linearOps
        let agreed = try Campaign.run(options)
        #expect(agreed.counts.divergences == 0)
        #expect(agreed.counts.externals["py-off"]?.whole == 1500)

        options.externals = [try ExternalSpec.connect(name: "py", command: "\(Self.python!) \(Self.example) --plant", timeout: 10)]
        options.maxDivergences = 5
        let found = try Campaign.run(options)
        #expect(found.counts.divergences > 0)
        #expect(found.groups.count == 1)
        #expect(found.groups.first?.cause == "external py-off skb_put: outcome")
        for f in found.findings { #expect(f.seedFile.calls.count <= 3, "\(f.seedFile.calls.map(SeedFile.render))") }
    }
}

/// `--ops`, grouping and the shrinker's reshapings.
@Suite("Triage")
struct TriageTests {
    @Test func opsRestrictTheDraws() {
        var g = Generator(target: ExternalTests.target, maxOps: 32)
        g.only = [.alloc_skb_fclone, .skb_put, .skb_clone]
        let impl = SwiftImplementation<OffsetRepresentation>(target: ExternalTests.target)
        var seen: Set<SKBDiff.Operation> = []
        for i in 0..<300 {
            var rng = SplitMix64(seed: 9, iteration: UInt64(i))
            impl.reset()
            var previous: Call?
            for _ in 0..<g.length(&rng) {
                let call = g.next(&rng, from: impl, after: previous)
                seen.insert(call.op)
                _ = impl.run(call, pattern: 0)
                previous = call
            }
        }
        #expect(seen == [.alloc_skb_fclone, .skb_put, .skb_clone])
    }

    @Test func causesAreReadFromSummaries() throws {
        let c = try #require(FindingGroups.cause(of: "fidelity-off at call 1 (skb_put skb0 128): outcome, frozen differ"))
        #expect(c.kind == "fidelity-off" && c.operation == "skb_put" && c.fields == ["frozen", "outcome"])
        let e = try #require(FindingGroups.cause(of: "external py-off at call 2 (skb_push skb0 0): outcome differ"))
        #expect(e.kind == "external py-off" && e.operation == "skb_push")
        let l = try #require(FindingGroups.cause(of: "leak at call 3 (kfree_skb skb1): allocations left: swift-off 1, c-off 2 differ"))
        #expect(l.fields == ["allocations left"])
        let groups = FindingGroups.group([
            .init(summary: "representation at call 4 (skb_clone skb0): dataref differ", calls: 5, path: "a"),
            .init(summary: "fidelity-off at call 1 (skb_put skb0 1): outcome differ", calls: 4, path: "b"),
            .init(summary: "fidelity-off at call 2 (skb_put skb0 9): outcome differ", calls: 2, path: "c"),
            .init(summary: "not a summary", calls: 1, path: "d"),
        ])
        #expect(groups.map(\.count) == [2, 1, 1])
        #expect(groups[0].smallestPath == "c" && groups[0].smallestCalls == 2)
        #expect(groups[1].kind == "representation" && groups[2].kind == "other")
    }

    /// `--mutant put-ge/c`: a handful of causes, not a line per finding; `skbdiff findings` reads
    /// the same from the files.
    @Test func aPlantedFaultIsAHandfulOfCauses() throws {
        try withTemporaryDirectory { dir in
            var options = CampaignOptions()
            options.iterations = 3000
            options.seed = 1
            options.jobs = 2
            options.mutant = Mutant(Mutation.byID["put-ge"]!, .c)
            options.outDirectory = dir
            let report = try Campaign.run(options)
            #expect(report.findings.count == 20)
            #expect(report.groups.count >= 1 && report.groups.count <= 6)
            #expect(report.groups.reduce(0) { $0 + $1.count } == report.findings.count)
            #expect(report.groups.allSatisfy { $0.operation == "skb_put" || $0.fields.contains("outcome") })
            let read = try FindingGroups.read(directory: dir)
            #expect(read.files > 0 && read.groups.reduce(0) { $0 + $1.count } == read.files)
            #expect(Set(read.groups.map(\.cause)).isSubset(of: Set(report.groups.map(\.cause))))
        }
    }

    @Test func aMissingFindingsDirectoryIsNamed() {
        do {
            _ = try FindingGroups.read(directory: "/nonexistent/skbdiff-findings")
            Issue.record("read a directory that is not there")
        } catch {
            #expect(error.description.contains("/nonexistent/skbdiff-findings") && error.description.contains("expected a findings directory"))
        }
    }

    /// The issue's case: a fault in skb_clone (it forgets mac_len, planted in C) shown on the end of
    /// a chain of copies shrinks to the three calls that need it (alloc_skb, set_mac_len, skb_clone),
    /// once the calls on the last copy are pointed at the first reference and the fclone
    /// allocation is made plain; removals alone keep all five (each copy makes the reference the
    /// next call needs).
    @Test func rePointingShortensAChain() throws {
        let target = ExternalTests.target
        let d = Differential(target: target)
        d.switchOn(Mutant(Mutation.byID["clone-no-mac-len"]!, .c))
        let chain = [Call(.alloc_skb_fclone, [100]), Call(.pskb_copy, target: 0), Call(.pskb_copy, target: 1),
                     Call(.set_mac_len, target: 2, [14]), Call(.skb_clone, target: 2)]
        let failure = try #require(d.run(chain).failure)
        let shrunk = try #require(Shrinker(differential: d).shrink(chain, kind: failure.kind))
        #expect(shrunk.calls.map(\.op) == [.alloc_skb, .set_mac_len, .skb_clone], "\(shrunk.calls.map(SeedFile.render))")
        #expect(shrunk.calls.last?.target == 0)
    }

    /// By hand: the reshapings of `alloc_skb_fclone 100; alloc_skb 50; skb_put skb1 8; skb_put skb1 4`
    /// hold the two puts merged (12, in either place), the puts re-pointed at skb0, and alloc_skb 100
    /// for the fclone allocation.
    @Test func reshapingsByHand() {
        let calls = [Call(.alloc_skb_fclone, [100]), Call(.alloc_skb, [50]), Call(.skb_put, target: 1, [8]), Call(.skb_put, target: 1, [4])]
        let shapes = Shrinker.reshapings(calls).map { $0.map(SeedFile.render) }
        #expect(shapes.contains(["alloc_skb_fclone 100", "alloc_skb 50", "skb_put skb1 12"]))
        #expect(shapes.filter { $0 == ["alloc_skb_fclone 100", "alloc_skb 50", "skb_put skb1 12"] }.count == 2)
        #expect(shapes.contains(["alloc_skb_fclone 100", "alloc_skb 50", "skb_put skb0 8", "skb_put skb1 4"]))
        #expect(shapes.contains(["alloc_skb_fclone 100", "alloc_skb 50", "skb_put skb1 8", "skb_put skb0 4"]))
        #expect(shapes.contains(["alloc_skb 100", "alloc_skb 50", "skb_put skb1 8", "skb_put skb1 4"]))
        #expect(Shrinker.weight([Call(.alloc_skb, [1])]).lexicographicallyPrecedes(
            Shrinker.weight([Call(.alloc_skb_fclone, [1])])))
    }
}
