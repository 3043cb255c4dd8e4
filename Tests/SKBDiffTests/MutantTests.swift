import CSKBuff
import Foundation
import SKBDiff
import SKBuff
import Testing

/// The mutant catalogue (Specs/mutants.txt) and a fast subset of `skbdiff mutants`; the whole
/// command, with its gate, runs in .ci/run.
@Suite("Mutants")
struct MutantTests {
    static let catalogue: [Mutant] = (try? MutantCatalogue.load(specs.appendingPathComponent("mutants.txt").path)) ?? []
    static let seeds: [(path: String, seed: SeedFile)] = corpus.compactMap { path in (try? Replay.load(path)).map { (path, $0) } }

    @Test func theCatalogueNamesEveryFaultOfBothSidesAndNothingElse() throws {
        let mutants = try MutantCatalogue.load(specs.appendingPathComponent("mutants.txt").path)
        #expect(Set(mutants.map(\.mutation)) == Set(Mutation.allCases), "every compiled fault is catalogued")
        let counted = mutants.filter { $0.equivalence == nil }
        #expect(counted.count >= 30)
        #expect(counted.filter { $0.side == .both }.count >= 8)
        #expect(mutants.filter { $0.equivalence != nil }.allSatisfy { $0.equivalence!.count > 40 }, "an equivalent mutant says why")
        // The C reference has every fault under the same id, and no other.
        let cNames = (1..<UInt32(SKBREF_MUTANT_COUNT.rawValue)).map { String(cString: skbref_mutant_name($0)) }
        #expect(cNames == Mutation.allCases.map(\.id))
        #expect(skbref_mutant_name(0) == nil && skbref_mutant_name(UInt32(SKBREF_MUTANT_COUNT.rawValue)) == nil)
    }

    @Test func badCatalogueLinesNameTheLine() {
        for (text, message) in [("put-ge swift\n", "expected 'ID SIDE what it breaks'"), ("put-gt swift x\n", "unknown mutant 'put-gt'"),
                                ("put-ge rust x\n", "side expected swift, c or both"), ("put-ge c x\nput-ge c y\n", "put-ge c is listed twice")] {
            do {
                _ = try MutantCatalogue.parse("# header\n" + text, file: "m.txt")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.file == "m.txt" && error.line == text.split(separator: "\n").count + 1 && error.message.contains(message), "\(error)")
            }
        }
    }

    /// Hand-checked: with the fault off every implementation agrees on the corpus; switched on on one
    /// side, the exact-fit skb_put of exact-boundaries.skb panics on that side only.
    @Test func aFaultIsSwitchedOnOnlyOnItsSide() throws {
        let path = specs.appendingPathComponent("seeds/exact-boundaries.skb").path
        let seed = try Replay.load(path)
        #expect(try Replay.run(seed, path: path).agrees)
        let swift = try Replay.run(seed, path: path, mutant: Mutant(.putGe, .swift))
        #expect(swift.result.failure?.kind == .fidelityOffset && swift.result.failure?.call.op == .skb_put)
        let both = try Replay.run(seed, path: path, mutant: Mutant(.putGe, .both))
        #expect(both.result.failure == nil, "the same fault on both sides: the implementations agree")
        #expect(both.mismatches.contains { $0.contains("expected ok 0, got panic over") }, "but the stated outcome catches it")
    }

    /// Every both-sided mutant dies by the corpus; no equivalent one does.
    @Test(arguments: catalogue.filter { $0.side == .both || $0.equivalence != nil })
    func corpusGate(_ mutant: Mutant) throws {
        var options = CampaignOptions()
        options.iterations = 200
        let r = try MutantRunner.run(mutant, options: options, corpus: MutantTests.seeds)
        if mutant.side == .both { #expect(r.fuzzIterations == nil, "both-sided mutants are not fuzzed") }
        #expect(r.gateFailure(maxShrunk: 6) == nil, "\(mutant.id) \(mutant.side): \(r.gateFailure(maxShrunk: 6) ?? "")")
    }

    /// A few one-sided mutants, fuzzed with a small budget: killed, with a short reproducer that the
    /// shrinker brought down from the generated sequence.
    @Test(arguments: [Mutant(.putGe, .c), Mutant(.cloneNoMacLen, .c), Mutant(.expandPtrMacKept, .swift), Mutant(.reserveLen, .swift)])
    func fuzzSubset(_ mutant: Mutant) throws {
        var options = CampaignOptions()
        options.iterations = 2048
        options.seed = 1
        options.jobs = 2
        let r = try MutantRunner.run(mutant, options: options, corpus: [])
        #expect(r.killedBy == "fuzz" && r.gateFailure(maxShrunk: 6) == nil, "\(mutant.id): \(r.gateFailure(maxShrunk: 6) ?? "")")
        #expect((r.reproducer?.calls.count ?? 99) <= 6)
    }
}

extension Mutant: CustomTestStringConvertible {
    public var testDescription: String { "\(id) (\(side.rawValue))" }
}
