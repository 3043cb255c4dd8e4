@testable import SKBDiff
import SKBuff
import Testing

@Suite("The generator's two entry points")
struct GeneratorViewTests {
    /// A view of n references with the given ones frozen, each with a distinct state so the
    /// generated arguments show which reference was read.
    func view(_ n: Int, frozen: Set<Int>) -> [ReferenceState] {
        (0..<n).map { i in
            var s = SKBState()
            s.len = UInt32(100 * (i + 1))
            s.tail = Int64(16 + i)
            s.end = 2048
            s.headroom = UInt32(16 + i)
            s.tailroom = Int32(1000 - i)
            return ReferenceState(reference: 3 * i + 1, frozen: frozen.contains(i), state: s)
        }
    }

    @Test("a whole view with frozen references draws exactly what its usable references draw", arguments: [
        (0, []), (1, []), (1, [0]), (4, [0]), (4, [1, 3]), (6, [5]), (7, [0, 1, 2, 3, 4, 5, 6]), (8, [2]),
    ] as [(Int, [Int])])
    func viewMatchesUsable(n: Int, frozenList: [Int]) {
        let frozen = Set(frozenList)
        let generator = Generator(target: Target(), maxOps: 32)
        let whole = view(n, frozen: frozen)
        let usable = whole.filter { !$0.frozen }
        for seed in 0..<300 as Range<UInt64> {
            var a = SplitMix64(seed: seed), b = SplitMix64(seed: seed)
            let fromUsable = generator.next(&a, usable: usable)
            let fromView = whole.withUnsafeBufferPointer { generator.next(&b, view: $0) }
            #expect(fromUsable == fromView, "seed \(seed)")
            #expect(a.state == b.state, "seed \(seed): both drew the same number of values")
            if fromView.op.takesTarget {
                #expect(usable.contains { $0.reference == fromView.target }, "seed \(seed): targets a usable reference")
            }
        }
    }

    @Test("the usable-array entry point takes every reference it is given, frozen or not")
    func usableArrayTakesWhatItIsGiven() {
        let generator = Generator(target: Target(), maxOps: 32)
        let given = view(3, frozen: [0, 1, 2])
        var targets = Set<Int>()
        for seed in 0..<300 as Range<UInt64> {
            var rng = SplitMix64(seed: seed)
            let call = generator.next(&rng, usable: given)
            if call.op.takesTarget { targets.insert(call.target) }
        }
        #expect(targets == Set(given.map(\.reference)))
    }

    @Test("reading an implementation's pool draws exactly what its usable snapshot draws")
    func poolMatchesUsable() {
        let impl = SwiftImplementation<OffsetRepresentation>(target: Target())
        // skb0 live, skb1 frozen by skb_over_panic, skb2 ended, skb3 and skb4 live.
        let calls = [Call(.alloc_skb, [100]), Call(.alloc_skb, [0]), Call(.skb_put, target: 1, [1]), Call(.alloc_skb, [10]),
                     Call(.kfree_skb, target: 2), Call(.dev_alloc_skb, [60]), Call(.skb_clone, target: 0)]
        for (i, call) in calls.enumerated() { _ = impl.run(call, pattern: UInt32(i)) }
        var all: [ReferenceState] = []
        impl.snapshot(into: &all)
        let usable = all.filter { !$0.frozen }
        #expect(usable.map(\.reference) == [0, 3, 4])
        let generator = Generator(target: Target(), maxOps: 32)
        for seed in 0..<300 as Range<UInt64> {
            var a = SplitMix64(seed: seed), b = SplitMix64(seed: seed)
            #expect(generator.next(&a, usable: usable) == generator.next(&b, from: impl), "seed \(seed)")
            #expect(a.state == b.state, "seed \(seed)")
        }
    }

    /// Follow-ups: after alloc_skb_fclone, the new skb is cloned about 30% of the time (plus what a
    /// free draw gives), the same way for the same random numbers; with no previous call, never.
    @Test func followUpsCloneAFreshFcloneAllocation() {
        let impl = SwiftImplementation<OffsetRepresentation>(target: Target())
        _ = impl.run(Call(.alloc_skb, [64]), pattern: 0)
        _ = impl.run(Call(.alloc_skb_fclone, [100]), pattern: 1)
        let previous = Call(.alloc_skb_fclone, [100])
        let generator = Generator(target: Target(), maxOps: 32)
        var after = 0, without = 0
        for seed in 0..<1000 as Range<UInt64> {
            var a = SplitMix64(seed: seed), b = SplitMix64(seed: seed), c = SplitMix64(seed: seed)
            let call = generator.next(&a, from: impl, after: previous)
            #expect(call == generator.next(&b, from: impl, after: previous))
            if call == Call(.skb_clone, target: 1) { after += 1 }
            if generator.next(&c, from: impl) == Call(.skb_clone, target: 1) { without += 1 }
        }
        #expect(after > 250 && after < 400, "\(after) of 1000")
        #expect(without < 50, "\(without) of 1000")
    }

    /// alloc_skb_from_cache is drawn with exact fits: object = SKB_DATA_ALIGN(request) + shinfo, +-1.
    @Test func cacheObjectsFitExactly() {
        let target = Target(arch: .x86_64, config: .minimal, cacheLine: 64)
        let shinfo = Int64(KernelStructs.sharedInfo(arch: .x86_64).size)
        let generator = Generator(target: target, maxOps: 32)
        var fits = [Int64: Int](), total = 0
        for seed in 0..<20000 as Range<UInt64> {
            var rng = SplitMix64(seed: seed)
            let call = generator.next(&rng, usable: [])
            guard call.op == .alloc_skb_from_cache else { continue }
            total += 1
            let slack = call.args[0] - ((call.args[1] + 63) / 64 * 64 + shinfo)
            if abs(slack) <= 1 { fits[slack, default: 0] += 1 }
        }
        #expect(total > 1000)
        #expect(fits[-1, default: 0] > total / 20 && fits[0, default: 0] > total / 20 && fits[1, default: 0] > total / 20, "\(fits) of \(total)")
    }
}

@Suite("The generator and paged data")
struct GeneratorPagedTests {
    /// Over a campaign's worth of sequences on the Swift model, frags are added to many skbs, and
    /// frags[] is filled up: add_frag meets MAX_SKB_FRAGS (-EMSGSIZE) now and then.
    @Test func framesGetFragsUpToMaxSkbFrags() {
        let generator = Generator(target: Target(), maxOps: 32)
        let impl = SwiftImplementation<OffsetRepresentation>(target: Target())
        var added = 0, full = 0, nonlinear = 0, most = 0
        for i in 0..<3000 as Range<UInt64> {
            impl.reset()
            var rng = SplitMix64(seed: 1, iteration: i)
            var previous: Call?
            var sawNonlinear = false
            for k in 0..<generator.length(&rng) {
                let call = generator.next(&rng, from: impl, after: previous)
                let outcome = impl.run(call, pattern: UInt32(k))
                if call.op == .add_frag && outcome == .ok(0) {
                    added += 1
                    most = max(most, impl.fragDescriptors(of: call.target)?.count ?? 0)
                }
                if call.op == .add_frag && outcome == .error(-90) { full += 1 }
                if call.op == .add_frag && call.arg1 != 0 && outcome == .ok(0) { sawNonlinear = true }
                previous = call
            }
            if sawNonlinear { nonlinear += 1 }
        }
        #expect(added > 1000)
        #expect(full > 0 && most == 18, "no skb reached MAX_SKB_FRAGS: at most \(most) frags")
        #expect(nonlinear > 300 && nonlinear < 2000, "a fair share of sequences has a nonlinear skb: \(nonlinear) of 3000")
    }
}
