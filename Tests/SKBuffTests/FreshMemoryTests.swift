import SKBDiff
import SKBuff
import Testing

/// Fresh memory reads as zero (Specs/snapshot.md, "Bytes") although neither side zeroes an object
/// when it allocates it: each zeroes bytes when an access first reaches them. Sequences reuse the
/// arena from its start, so a sequence that filled it leaves pattern bytes where the next one's
/// objects lie: a side that forgot to zero would show them. Both sides would leave the same bytes
/// there, so the expected digests are computed here, by hand, not by comparing the sides.
@Suite("Fresh memory reads as zero after the arena was used")
struct FreshMemoryTests {
    /// skb_put/skb_push byte k of the call with index p (Specs/snapshot.md).
    func pattern(_ p: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((p * 157 + $0) & 255) } }

    func digest(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { PacketBytes.digest($0) } }

    /// Runs `dirty`, resets, runs `calls` (the pattern of call i is i), and returns reference 0's state.
    func stateAfter(_ impl: Implementation, dirty: [Call], _ calls: [Call]) -> SKBState? {
        impl.reset()
        for (i, c) in dirty.enumerated() { _ = impl.run(c, pattern: UInt32(i + 1)) }
        impl.reset()
        for (i, c) in calls.enumerated() { #expect(impl.run(c, pattern: UInt32(i))?.freezes == false, "\(c.op.name)") }
        var r = ReferenceState(reference: 0, frozen: false, state: SKBState())
        return impl.state(of: 0, into: &r) ? r.state : nil
    }

    /// alloc_skb 4000 then skb_put of all of it: pattern bytes over the first 4000 bytes of the arena.
    let dirty = [Call(.alloc_skb, [4000]), Call(.skb_put, target: 0, [4000])]

    @Test("bytes between written ones read as zero", arguments: Differential.standardImplementations(Target()).map(\.name))
    func gapReadsZero(name: String) throws {
        let impl = try #require(Differential.standardImplementations(Target()).first { $0.name == name })
        // data 1000 after the reserve; the push writes [900, 1000); the tail pointer set to data + 300
        // = 1200 makes [900, 1200) the packet: 100 pattern bytes of call 2, then 200 never written.
        let s = try #require(stateAfter(impl, dirty: dirty, [
            Call(.alloc_skb, [4000]), Call(.skb_reserve, target: 0, [1000]), Call(.skb_push, target: 0, [100]),
            Call(.skb_set_tail_pointer, target: 0, [300])]))
        #expect(s.data == 900 && s.tail == 1200)
        #expect(s.digest == digest(pattern(2, 100) + [UInt8](repeating: 0, count: 200)))
    }

    @Test("bytes before a write near the end read as zero", arguments: Differential.standardImplementations(Target()).map(\.name))
    func prefixReadsZero(name: String) throws {
        let impl = try #require(Differential.standardImplementations(Target()).first { $0.name == name })
        // end is SKB_DATA_ALIGN(4000) = 4096; the put writes [3900, 3910); moving data back to head
        // (skb_reserve moves tail too, to 10) and the tail pointer to data + 3910 makes [0, 3910) the
        // packet: 3900 never-written bytes, then the 10 of call 2.
        let s = try #require(stateAfter(impl, dirty: dirty, [
            Call(.alloc_skb, [4000]), Call(.skb_reserve, target: 0, [3900]), Call(.skb_put, target: 0, [10]),
            Call(.skb_reserve, target: 0, [-3900]), Call(.skb_set_tail_pointer, target: 0, [3910])]))
        #expect(s.data == 0 && s.tail == 3910 && s.end == 4096)
        #expect(s.digest == digest([UInt8](repeating: 0, count: 3900) + pattern(2, 10)))
    }

    @Test("a copy carries the zeros it read", arguments: Differential.standardImplementations(Target()).map(\.name))
    func copyReadsZero(name: String) throws {
        let impl = try #require(Differential.standardImplementations(Target()).first { $0.name == name })
        // skb_copy copies [head, tail) = [0, 60): 50 never-written bytes, then 10 of call 2; the copy
        // is skb1, whose data is moved back to its head and tail to data + 60 to read all 60.
        impl.reset()
        for (i, c) in dirty.enumerated() { _ = impl.run(c, pattern: UInt32(i + 1)) }
        impl.reset()
        let calls = [Call(.alloc_skb, [4000]), Call(.skb_reserve, target: 0, [50]), Call(.skb_put, target: 0, [10]),
                     Call(.skb_copy, target: 0), Call(.skb_reserve, target: 1, [-50]), Call(.skb_set_tail_pointer, target: 1, [60])]
        for (i, c) in calls.enumerated() { #expect(impl.run(c, pattern: UInt32(i)) == .ok(c.op == .skb_put ? 50 : 0)) }
        var r = ReferenceState(reference: 0, frozen: false, state: SKBState())
        #expect(impl.state(of: 1, into: &r))
        #expect(r.state.data == 0 && r.state.tail == 60)
        #expect(r.state.digest == digest([UInt8](repeating: 0, count: 50) + pattern(2, 10)))
    }
}
