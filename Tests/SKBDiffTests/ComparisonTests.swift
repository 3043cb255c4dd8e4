import Foundation
@testable import SKBDiff
import SKBuff
import Testing

/// An implementation that runs another one and, after every call of `trigger`, also runs the hidden
/// `extra` call on its own pool: a fault that changes state the visible call does not.
final class HiddenCall: Forwarding {
    let trigger: (Call) -> Bool
    let extra: (Call) -> Call

    init(_ inner: Implementation, trigger: @escaping (Call) -> Bool, extra: @escaping (Call) -> Call) {
        self.trigger = trigger
        self.extra = extra
        super.init(inner)
    }

    override func run(_ call: Call, pattern: UInt32) -> Outcome? {
        let outcome = inner.run(call, pattern: pattern)
        if outcome != nil && trigger(call) { _ = inner.run(extra(call), pattern: pattern) }
        return outcome
    }
}

@Suite("What is compared after each call, and OFF/PTR per reference")
struct ComparisonTests {
    let target = Target()

    /// C OFF, after skb_reset_network_header on any skb, also reserves one byte on skb0.
    func untouchedFault() -> Differential {
        let faulty = HiddenCall(CImplementation(representation: .offset, target: target),
                                trigger: { $0.op == .skb_reset_network_header },
                                extra: { _ in Call(.skb_reserve, target: 0, [1]) })
        return Differential(target: target, implementations: [
            SwiftImplementation<OffsetRepresentation>(target: target), SwiftImplementation<PointerRepresentation>(target: target),
            faulty, CImplementation(representation: .pointer, target: target)])
    }

    /// skb0 and skb1 have separate buffers, so calls on skb1 do not touch skb0.
    let separate = [Call(.alloc_skb, [100]), Call(.alloc_skb, [100]), Call(.skb_reset_network_header, target: 1),
                    Call(.skb_put, target: 1, [10]), Call(.skb_headroom, target: 1)]

    @Test("a fault in a reference the call does not touch passes every call, is caught at the end, and is reported at its call")
    func untouchedReferenceCaughtAtTheEnd() throws {
        let d = untouchedFault()
        // Call by call, the touched comparison sees nothing: skb0 is never among what a call on skb1 touches.
        d.reset()
        var stepwise = SequenceResult()
        for call in separate { #expect(d.stepTouched(call, &stepwise), "\(SeedFile.render(call))") }
        #expect(stepwise.failure == nil)
        // The end of the sequence compares every reference, and the full re-run names the call.
        d.finishTouched(&stepwise)
        let failure = try #require(stepwise.failure)
        #expect(stepwise.rerun)
        #expect(failure.kind == .fidelityOffset)
        #expect(failure.step == 2, "the hidden reserve ran with call 2, skb_reset_network_header")
        #expect(failure.differences.contains(FieldDifference(reference: 0, field: "data")))
        #expect(!failure.differences.contains { $0.reference == 1 })
        // run(.touched) does the same, and the full comparison agrees on the call.
        #expect(d.run(separate, comparison: .touched).failure?.step == 2)
        #expect(d.run(separate, comparison: .full).failure?.step == 2)
    }

    @Test("a touched reference that changed before the call is caught when the call targets it")
    func targetBeforeTheCall() throws {
        // The fault changes skb0 during a call on skb1; the next call targets skb0, whose state
        // before that call already differs.
        let calls = Array(separate.prefix(3)) + [Call(.skb_headroom, target: 0)]
        let d = untouchedFault()
        d.reset()
        var r = SequenceResult()
        var stoppedAt: Int?
        for (i, call) in calls.enumerated() where stoppedAt == nil {
            if !d.stepTouched(call, &r) { stoppedAt = i }
        }
        #expect(stoppedAt == 3, "seen at the call on skb0, before the end of the sequence")
        d.finishTouched(&r)
        #expect(r.failure?.step == 2)
    }

    @Test("the same calls, the same counts: touched and full comparison over a short campaign")
    func touchedMatchesFull() throws {
        let (touched, full) = try twoCampaigns(seed: 0xC0FFEE, jobs: 2) { $0.comparison = .full }
        expectSameCalls(touched, full)
        #expect(touched.counts.divergences == 0 && full.counts.divergences == 0)
        #expect(touched.counts.livePairs == full.counts.livePairs)
    }

    // MARK: OFF/PTR per reference

    /// Both PTR implementations, on skb_put of exactly 5 bytes, also reserve one byte on the target:
    /// a representation fault made the same way in Swift and C, which only OFF against PTR can see.
    func representationFault() -> Differential {
        func faulty(_ impl: Implementation) -> Implementation {
            HiddenCall(impl, trigger: { $0.op == .skb_put && $0.arg0 == 5 }, extra: { Call(.skb_reserve, target: $0.target, [1]) })
        }
        return Differential(target: target, implementations: [
            SwiftImplementation<OffsetRepresentation>(target: target), faulty(SwiftImplementation<PointerRepresentation>(target: target)),
            CImplementation(representation: .offset, target: target), faulty(CImplementation(representation: .pointer, target: target))])
    }

    /// skb1 meets put-wrap (dev_alloc_skb 0 has tail 16: under OFF 16 + 2^32 - 1 wraps to 15, within
    /// end 128, so skb_put returns; under PTR tail passes end and skb_over_panic fires). skb0 is
    /// separate from it.
    let afterPutWrap = [Call(.alloc_skb, [100]), Call(.dev_alloc_skb, [0]), Call(.skb_put, target: 1, [4_294_967_295]),
                        Call(.skb_put, target: 0, [5])]

    @Test("after put-wrap on one skb, a representation fault on another is still caught", arguments: Differential.Comparison.allCases)
    func representationFaultAfterQuirk(comparison: Differential.Comparison) throws {
        let clean = Differential(target: target).run(afterPutWrap, comparison: comparison)
        #expect(clean.failure == nil)
        #expect(clean.quirks == ["put-wrap"])
        #expect(clean.outcomes[2] == .ok(16), "OFF returns the old tail")

        let r = representationFault().run(afterPutWrap, comparison: comparison)
        let failure = try #require(r.failure, "the per-sequence rule would have stopped comparing at call 2")
        #expect(failure.kind == .representation)
        #expect(failure.step == 3)
        #expect(failure.differences.contains(FieldDifference(reference: 0, field: "data")))
        #expect(r.quirks == ["put-wrap"])
    }

    @Test("the quirk excludes its skb and what derives from it, and counts the pairs compared")
    func exclusionCounts() {
        // After call 2, skb1 is excluded; skb_get on skb0 afterwards makes skb2, which stays compared.
        let calls = afterPutWrap.dropLast() + [Call(.skb_get, target: 0), Call(.skb_headroom, target: 0)]
        let r = Differential(target: target).run(Array(calls))
        #expect(r.failure == nil)
        // Live references after each call: 1, 2, 2, 3, 3 = 11; compared: 1, 2, then skb1 excluded: 1, 2, 2 = 8.
        #expect(r.livePairs == 11)
        #expect(r.offPtrPairs == 8)
        // The per-sequence rule compared only the calls before the quirk: 1 + 2.
        #expect(r.offPtrPairsPerSequence == 3)
    }

    // MARK: merge

    func shardSummary(_ k: Int, of n: Int, seed: UInt64 = 9) throws -> String {
        var options = CampaignOptions()
        options.iterations = 900
        options.seed = seed
        options.shard = (k, n)
        return Report.json(try Campaign.run(options))
    }

    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A JSON value rendered with sorted keys, so two equal ones render alike.
    func canonical(_ v: Any) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
    }

    @Test("merged shards give the whole campaign's counts, with the same keys")
    func mergeAddsUp() throws {
        let whole = try object(try shardSummary(1, of: 1))
        let merged = try object(try SummaryMerge.merge((1...3).map { ("s\($0).json", try shardSummary($0, of: 3)) }.reversed()).json)
        for key in whole.keys where key != "elapsed_seconds" {
            #expect(canonical(whole[key] ?? "missing in the whole run") == canonical(merged[key] ?? "missing"), "\(key)")
        }
        #expect(merged["merged_shards"] as? Int == 3)
    }

    @Test("merge refuses a missing shard, a shard twice, shards of other seeds, and what is not a summary")
    func mergeRefuses() throws {
        let s1 = try shardSummary(1, of: 3), s2 = try shardSummary(2, of: 3), s3 = try shardSummary(3, of: 3)
        func refusal(_ inputs: [(String, String)]) -> String? {
            do {
                _ = try SummaryMerge.merge(inputs.map { (file: $0.0, text: $0.1) })
                return nil
            } catch { return error.description }
        }
        #expect(refusal([("a", s1), ("c", s3)])?.contains("shard 2/3 missing") == true)
        #expect(refusal([("a", s1), ("b", s2), ("b2", s2), ("c", s3)])?.contains("b2: is shard 2/3, as is b") == true)
        let other = try shardSummary(2, of: 3, seed: 10)
        let seeds = refusal([("a", s1), ("x", other), ("c", s3)])
        #expect(seeds?.contains("x: has seed 10, a has 9") == true, "\(seeds ?? "accepted")")
        #expect(refusal([("a", s1), ("b", s2), ("j", "{\"shard\": \"3/3\"}")])?.contains("j: expected the key") == true)
        #expect(refusal([("t", "not json")])?.contains("t: expected one JSON object") == true)
        #expect(refusal([("a", s1), ("b", s2), ("c", s3)]) == nil)
    }
}
