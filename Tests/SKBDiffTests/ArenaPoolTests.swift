import SKBDiff
import SKBuff
import Testing

/// A world that is gone hands its arena to the next one (Swift `ArenaPool`, C `skbref_give_arena`):
/// what the old world wrote there must never show in the new one, where fresh memory reads as zero
/// (Specs/snapshot.md, "Bytes").
@Suite("Pooled arenas")
struct ArenaPoolTests {
    static let target = Target(arch: .x86_64, config: .minimal, cacheLine: 128)

    /// By hand: alloc_skb 100 puts the first object at the arena's start (end = SKB_DATA_ALIGN(100)
    /// = 128); skb_put 100 writes the pattern over [0, 100). In the next world the same alloc_skb
    /// lands on the same bytes, and skb_set_tail_pointer 60 makes [data, tail) = [0, 60) without
    /// writing it: those 60 bytes must read as zero, whatever the arena held.
    @Test(arguments: [RepresentationKind.offset, .pointer])
    func aReusedArenaReadsAsFreshMemory(_ representation: RepresentationKind) {
        func make() -> [Implementation] {
            let c = CImplementation(representation: representation, target: Self.target)
            let swift: Implementation = representation == .offset
                ? SwiftImplementation<OffsetRepresentation>(target: Self.target)
                : SwiftImplementation<PointerRepresentation>(target: Self.target)
            return [swift, c]
        }
        let zeros = [UInt8](repeating: 0, count: 60)
        let zeroDigest = zeros.withUnsafeBytes { PacketBytes.digest($0) }
        for round in 0..<4 {
            // The world before: written all over its first object.
            var old: [Implementation]? = make()
            for impl in old! {
                impl.reset()
                #expect(impl.run(Call(.alloc_skb, [100]), pattern: 0) == .ok(0))
                #expect(impl.run(Call(.skb_put, target: 0, [100]), pattern: 1) != nil)
                var view: [ReferenceState] = []
                impl.snapshot(into: &view)
                #expect(view.first?.state.tail == 100 && view.first?.state.digest != nil)
            }
            old = nil
            // The next world, on a pooled arena.
            for impl in make() {
                impl.reset()
                #expect(impl.run(Call(.alloc_skb, [100]), pattern: 0) == .ok(0))
                #expect(impl.run(Call(.skb_set_tail_pointer, target: 0, [60]), pattern: 1) == .ok(0))
                var view: [ReferenceState] = []
                impl.snapshot(into: &view)
                let s = view.first?.state
                #expect(s?.data == 0 && s?.tail == 60 && s?.end == 128, "\(impl.name), round \(round)")
                #expect(s?.digest == zeroDigest, "\(impl.name), round \(round): old bytes showed through")
            }
        }
    }
}
