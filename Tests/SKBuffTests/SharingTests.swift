import SKBDiff
import SKBuff
import Testing

@Suite("Sharing and reference counts (spec section 3)")
struct SharingTests {
    @Test("skb_clone shares the data: dataref 2, both cloned; freeing the clone drops dataref, not the cloned bit", arguments: bothRepresentations)
    func clone(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_put skb0 10\nskb_clone skb0\nskb_cloned skb0\nkfree_skb skb1\nskb_cloned skb0", rep)
        #expect(r.outcomes[3] == .ok(1))
        #expect(r.outcomes[5] == .ok(0))
        #expect(r[0].cloned && r[0].dataref == 1 && r.states[1] == nil)
    }

    @Test("a clone copies data, tail, end, len and truesize", arguments: bothRepresentations)
    func cloneFields(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 8\nskb_put skb0 10\nskb_clone skb0", rep)
        #expect(r[1].data == 8 && r[1].tail == 18 && r[1].end == 128 && r[1].len == 10)
        #expect(r[1].truesize == r[0].truesize && r[1].digest == r[0].digest && r[1].users == 1)
    }

    @Test("skb_get and kfree_skb: users counts references; the last one frees", arguments: bothRepresentations)
    func users(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_get skb0\nskb_shared skb0\nkfree_skb skb0\nskb_shared skb1", rep)
        #expect(r.outcomes[2] == .ok(1) && r.outcomes[4] == .ok(0))
        #expect(r[1].users == 1 && r.states[0] == nil)
    }

    @Test("skb_header_release twice is BUG", arguments: bothRepresentations)
    func headerReleaseTwice(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_header_release skb0\nskb_header_release skb0", rep)
        #expect(r[0].nohdr)
        #expect(r.last == .bug(.headerRelease))
    }

    @Test("quirk 10: a lone clone that did skb_header_release reports skb_header_cloned 1", arguments: bothRepresentations)
    func quirk10HeaderCloned(rep: RepresentationKind) {
        let r = run("""
            alloc_skb 100
            skb_clone skb0
            skb_header_release skb1
            kfree_skb skb0
            skb_header_cloned skb1
            skb_cloned skb1
            """, rep)
        #expect(r[1].dataref == 0x10001)
        #expect(r.outcomes[4] == .ok(1), "(0x10001 & 0xFFFF) - (0x10001 >> 16) = 0, which is not 1")
        #expect(r.outcomes[5] == .ok(0))
    }

    @Test("skb_unshare copies a cloned skb and drops the original reference", arguments: bothRepresentations)
    func unshare(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_put skb0 10\nskb_clone skb0\nskb_unshare skb1", rep)
        #expect(r[1].dataref == 1 && !r[1].cloned && r[1].len == 10)
        #expect(r[0].dataref == 1)
        let same = run("alloc_skb 100\nskb_unshare skb0", rep)
        #expect(same[0].end == 128 && same.last == .ok(0))
    }

    @Test("skb_share_check clones a shared skb and drops one user", arguments: bothRepresentations)
    func shareCheck(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_get skb0\nskb_share_check skb1", rep)
        #expect(r[0].users == 1 && r[1].users == 1 && r[1].cloned && r[0].dataref == 2)
    }

    @Test("nothing leaks: after the last kfree_skb no allocation is live on either side", arguments: bothRepresentations)
    func noLeaks(rep: RepresentationKind) {
        let target = Target()
        let c = CImplementation(representation: rep, target: target)
        let sw = SwiftImplementation<OffsetRepresentation>(target: target)
        for (i, call) in calls("alloc_skb_fclone 100\nskb_clone skb0\nskb_copy skb1\npskb_expand_head skb2 32 0\nkfree_skb skb0\nkfree_skb skb1\nkfree_skb skb2").enumerated() {
            _ = c.run(call, pattern: UInt32(i))
            _ = sw.run(call, pattern: UInt32(i))
        }
        #expect(c.liveAllocations == 0)
        #expect(sw.kernel.liveObjects.heads == 0 && sw.kernel.liveObjects.buffers == 0)
    }

    @Test("the C reference's data arena lies at or above 8 GiB, where data - len cannot wrap (Specs/snapshot.md)",
          arguments: bothRepresentations)
    func arenaPlacement(rep: RepresentationKind) {
        // Several worlds at once, as a campaign's jobs hold them: each needs its own high place.
        let worlds = (0..<4).map { _ in CImplementation(representation: rep, target: Target()) }
        for w in worlds { #expect(w.arenaBase >= 1 << 33) }
        #expect(Set(worlds.map(\.arenaBase)).count == worlds.count)
    }
}
