import SKBDiff
import SKBuff
import Testing

/// After a sequence the kernel survived, every live reference is freed and nothing may stay
/// allocated, on any implementation (Specs/snapshot.md, "Leaks").
@Suite("Leaks")
struct LeakTests {
    /// By hand: a clone (dataref 2), header release on the original (0x10002), the original freed
    /// with nohdr (-0x10001: 1), then the final free of the clone (-1: 0) frees the buffer. With
    /// skb_release_data ignoring nohdr on both sides, the original takes only 1 (0x10001) and the
    /// clone 1 more (0x10000): the buffer is never freed, on every implementation alike, so only the
    /// leak check can see it.
    let calls = [Call(.alloc_skb, [100]), Call(.skb_clone, target: 0), Call(.skb_header_release, target: 0),
                 Call(.kfree_skb, target: 0)]

    @Test func everythingIsFreedAtTheEnd() {
        let d = Differential(target: Target())
        #expect(d.run(calls).failure == nil)
        #expect(d.run(calls, comparison: .touched).failure == nil)
        #expect(d.implementations.allSatisfy { $0.liveAllocations == 0 })
    }

    @Test(arguments: [Differential.Comparison.full, .touched])
    func aBufferNeverFreedIsALeakOnEverySide(_ comparison: Differential.Comparison) throws {
        let d = Differential(target: Target())
        d.switchOn(Mutant(.releaseIgnoresNohdr, .both))
        let failure = try #require(d.run(calls, comparison: comparison).failure)
        #expect(failure.kind == .leak && failure.step == 3)
        #expect(failure.differences.map(\.field) == ["allocations left: swift-off 1, swift-ptr 1, c-off 1, c-ptr 1"])
        #expect(Report.oneLine(failure).contains("leak"))
    }

    /// A sequence that ends in a BUG or panic is not checked: the kernel would have died.
    @Test func aKernelThatDiedIsNotChecked() {
        let d = Differential(target: Target())
        d.switchOn(Mutant(.releaseIgnoresNohdr, .both))
        #expect(d.run(calls + [Call(.alloc_skb, [10]), Call(.skb_put, target: 2, [1000])]).failure == nil)
    }

    /// The shrinker keeps the leak: the extra calls go, and so does the explicit free of the original
    /// (the final frees do it, in reference order: 0x10002 - 1 - 1); the size goes to 0.
    @Test func aLeakShrinks() throws {
        let d = Differential(target: Target())
        d.switchOn(Mutant(.releaseIgnoresNohdr, .both))
        let padded = [Call(.alloc_skb, [7]), Call(.skb_reserve, target: 0, [4])]
            + calls.map { c in c.op.takesTarget ? Call(c.op, target: c.target + 1, c.args) : c } + [Call(.skb_headroom, target: 0)]
        let shrunk = try #require(Shrinker(differential: d).shrink(padded, kind: .leak))
        #expect(shrunk.calls == [Call(.alloc_skb, [0]), Call(.skb_clone, target: 0), Call(.skb_header_release, target: 0)])
    }

    /// Where PTR panics and OFF goes on (quirk 3, put-wrap), PTR's kernel died: only OFF is checked.
    @Test func onlyTheImplementationsThatSurvivedAreChecked() {
        let d = Differential(target: Target())
        let r = d.run([Call(.alloc_skb, [100]), Call(.skb_put, target: 0, [10]), Call(.skb_put, target: 0, [4_294_967_290])])
        #expect(r.failure == nil && r.quirks == ["put-wrap"])
        #expect(d.implementations.filter { $0.representation == .offset }.allSatisfy { $0.liveAllocations == 0 })
        #expect(d.implementations.filter { $0.representation == .pointer }.allSatisfy { $0.liveAllocations > 0 })
    }
}
