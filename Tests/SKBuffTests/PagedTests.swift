import SKBDiff
import SKBuff
import Testing

/// Worked examples for paged data (Specs/paged.md), computed by hand from the 2.6.24 rules and run on
/// the Swift model and the C reference in both representations (`run` checks that they agree after
/// every call). Target: x86_64, SMP_CACHE_BYTES 128, so alloc_skb 1000 gives end = 1024.
///
/// The common start: a 20-byte head at data 16 (skb_put's pattern 2), then two frags:
///   call 3: page 4, [0, 100)     len 120, data_len 100
///   call 4: page 5, [50, 250)    len 320, data_len 300, truesize 1024 + 100 + 200 + sizeof(sk_buff)
/// (a page is named 1 + the index of the call that allocated it).
@Suite("Paged data: worked examples (Specs/paged.md)")
struct PagedTests {
    static let start = """
        alloc_skb 1000
        skb_reserve skb0 16
        skb_put skb0 20
        add_frag skb0 0 100
        add_frag skb0 50 200

        """

    /// The records the snapshot's frags digest is taken over: {page id, page_offset, size, count}.
    func fragsDigest(_ frags: [(page: UInt32, offset: UInt32, size: UInt32, count: UInt32)]) -> UInt64 {
        let words = frags.flatMap { [$0.page, $0.offset, $0.size, $0.count] }
        return words.withUnsafeBytes { PacketBytes.digest($0) }
    }

    /// The packet of the common start, as skb_copy_bits sees it: the head's 20 pattern-2 bytes, page
    /// 4's [0, 100), page 5's [50, 250).
    var packet: [UInt8] {
        (0..<20).map { PacketBytes.pattern(2, $0) } + Array(PacketBytes.page(4)[0..<100]) + Array(PacketBytes.page(5)[50..<250])
    }

    func digest(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { PacketBytes.digest($0) } }

    /// The Swift model after the calls, to read its frag descriptors and page counts.
    func swift(_ text: String, _ rep: RepresentationKind) -> Implementation {
        let impl: Implementation = rep == .offset
            ? SwiftImplementation<OffsetRepresentation>(target: Target())
            : SwiftImplementation<PointerRepresentation>(target: Target())
        for (i, call) in calls(text).enumerated() { _ = impl.run(call, pattern: UInt32(i)) }
        return impl
    }

    @Test("the start: two frags, len counts them, the packet is head + page bytes", arguments: bothRepresentations)
    func start(_ rep: RepresentationKind) {
        let r = run(Self.start, rep)
        let s = r[0]
        #expect((s.data, s.tail, s.end, s.len, s.dataLen) == (16, 36, 1024, 320, 300))
        #expect(s.truesize == 1024 + 300 + skbSize(rep))
        #expect(s.nrFrags == 2 && s.tailroom == 0, "skb_tailroom is 0 on a nonlinear skb")
        #expect(s.fragsDigest == fragsDigest([(4, 0, 100, 1), (5, 50, 200, 1)]))
        #expect(s.packetDigest == digest(packet))
        #expect(r.outcomes.suffix(2) == [.ok(0), .ok(0)])
    }

    @Test("pskb_may_pull 150 crosses one frag boundary: page 4 goes, page 5 is cut at 80", arguments: bothRepresentations)
    func pullAcrossABoundary(_ rep: RepresentationKind) {
        // headlen 20 < 150 <= 320: __pskb_pull_tail(130). eat = 36 + 130 - 1024 < 0 and not cloned, so
        // no expansion; 130 bytes (page 4's 100, page 5's [50, 80)) go to tail 36. Frag 0 (100 <= 130)
        // is put, eat 30; frag 1 becomes {5, 80, 170}. tail 166, data_len 170.
        let r = run(Self.start + "pskb_may_pull skb0 150", rep)
        #expect(r.last == .ok(1))
        let s = r[0]
        #expect((s.data, s.tail, s.end, s.len, s.dataLen, s.nrFrags) == (16, 166, 1024, 320, 170, 1))
        #expect(s.truesize == 1024 + 300 + skbSize(rep), "pulling does not change truesize")
        #expect(s.fragsDigest == fragsDigest([(5, 80, 170, 1)]))
        #expect(s.packetDigest == digest(packet), "a pull moves bytes, it does not change the packet")
        #expect(s.digest == digest(Array(packet[0..<150])), "the head now holds the first 150 bytes")
        let model = swift(Self.start + "pskb_may_pull skb0 150", rep)
        #expect(model.fragDescriptors(of: 0) == [FragDescriptor(page: 5, offset: 80, size: 170, count: 1)])
        #expect(model.liveAllocations == 3, "head, buffer, page 5: page 4 was freed")
    }

    @Test("pskb_pull 120 empties frag 0 exactly and leaves frag 1 whole", arguments: bothRepresentations)
    func pullThatEmptiesAFrag(_ rep: RepresentationKind) {
        // headlen 20 < 120: __pskb_pull_tail(100): page 4's 100 bytes to tail; frag 0 (100 <= 100) is
        // put, eat 0; frag 1 moves to index 0 unchanged. tail 136, data_len 200; then len 200, data 136.
        let r = run(Self.start + "pskb_pull skb0 120", rep)
        #expect(r.last == .ok(136), "the new data, as an offset from head")
        let s = r[0]
        #expect((s.data, s.tail, s.len, s.dataLen, s.nrFrags) == (136, 136, 200, 200, 1))
        #expect(s.fragsDigest == fragsDigest([(5, 50, 200, 1)]))
        #expect(s.packetDigest == digest(Array(packet[120...])))
    }

    @Test("pskb_trim 10 cuts inside the head: every frag goes, the skb is linear", arguments: bothRepresentations)
    func trimInsideTheHead(_ rep: RepresentationKind) {
        // headlen 20 >= 10: nr_frags = 0, put_page on both; 10 <= headlen: data_len 0, tail = 16 + 10.
        let r = run(Self.start + "pskb_trim skb0 10", rep)
        #expect(r.last == .ok(0))
        let s = r[0]
        #expect((s.tail, s.len, s.dataLen, s.nrFrags, s.fragsDigest, s.packetDigest) == (26, 10, 0, 0, 0, 0))
        #expect(s.digest == digest(Array(packet[0..<10])))
        #expect(s.truesize == 1024 + 300 + skbSize(rep), "trimming does not change truesize")
        #expect(swift(Self.start + "pskb_trim skb0 10", rep).liveAllocations == 2, "both pages were freed")
    }

    @Test("pskb_trim 170 cuts inside frag 1; 120 cuts at frag 0's end and drops frag 1", arguments: bothRepresentations)
    func trimInsideAFrag(_ rep: RepresentationKind) {
        // 170: frag 0 ends at 120 < 170 (kept); frag 1 ends at 320 >= 170: size = 170 - 120 = 50.
        // data_len -= 320 - 170: 150. tail stays 36.
        let inside = run(Self.start + "pskb_trim skb0 170", rep)[0]
        #expect((inside.tail, inside.len, inside.dataLen, inside.nrFrags) == (36, 170, 150, 2))
        #expect(inside.fragsDigest == fragsDigest([(4, 0, 100, 1), (5, 50, 50, 1)]))
        #expect(inside.packetDigest == digest(Array(packet[0..<170])))
        // 120: frag 0 ends at 120, not < 120, so it is the cut one (size 120 - 20 = 100, unchanged);
        // nr_frags 1 and page 5 is put (freed).
        let boundary = run(Self.start + "pskb_trim skb0 120", rep)[0]
        #expect((boundary.len, boundary.dataLen, boundary.nrFrags) == (120, 100, 1))
        #expect(boundary.fragsDigest == fragsDigest([(4, 0, 100, 1)]))
    }

    @Test("skb_linearize of 3 frags: 396 bytes to the tail, every page put", arguments: bothRepresentations)
    func linearizeThreeFrags(_ rep: RepresentationKind) {
        // A third frag, page 6's [4000, 4096). __pskb_pull_tail(396): eat = 36 + 396 - 1024 < 0, no
        // expansion; the three frags (100 + 200 + 96 <= 396) are all put. tail 432, data_len 0.
        let text = Self.start + "add_frag skb0 4000 96\nskb_linearize skb0"
        let r = run(text, rep)
        #expect(r.last == .ok(0))
        let s = r[0]
        #expect((s.tail, s.len, s.dataLen, s.nrFrags, s.packetDigest) == (432, 416, 0, 0, 0))
        #expect(s.truesize == 1024 + 396 + skbSize(rep))
        #expect(s.digest == digest(packet + Array(PacketBytes.page(6)[4000..<4096])), "the head holds the whole packet")
        #expect(swift(text, rep).liveAllocations == 2, "the head and its buffer: the three pages were freed")
    }

    @Test("pskb_copy shares the pages (get_page), and each copy's free puts them", arguments: bothRepresentations)
    func pskbCopyCountsPages(_ rep: RepresentationKind) {
        // pskb_copy: alloc_skb(1024), reserve 16, put headlen 20, truesize += data_len 300, the two frag
        // descriptors copied, get_page on each: both pages at count 2, seen by both skbs.
        let copy = run(Self.start + "pskb_copy skb0", rep)
        for r in [0, 1] {
            #expect(copy[r].fragsDigest == fragsDigest([(4, 0, 100, 2), (5, 50, 200, 2)]))
            #expect(copy[r].packetDigest == digest(packet))
        }
        #expect((copy[1].data, copy[1].tail, copy[1].len, copy[1].dataLen) == (16, 36, 320, 300))
        #expect(copy[1].truesize == 1024 + 300 + skbSize(rep))
        // Freeing the original puts each page once: the copy sees count 1.
        let freed = run(Self.start + "pskb_copy skb0\nkfree_skb skb0", rep)
        #expect(freed[1].fragsDigest == fragsDigest([(4, 0, 100, 1), (5, 50, 200, 1)]))
        #expect(swift(Self.start + "pskb_copy skb0\nkfree_skb skb0\nkfree_skb skb1", rep).liveAllocations == 0)
    }

    @Test("kfree_skb of a clone keeps the pages; the last reference's free puts every page", arguments: bothRepresentations)
    func lastFreeReleasesThePages(_ rep: RepresentationKind) {
        // skb_clone shares the shinfo (dataref 2) and takes no page reference. The first free only
        // drops dataref to 1; the second reaches 0: put_page on both frags (count 1 -> 0), kfree.
        let one = swift(Self.start + "skb_clone skb0\nkfree_skb skb0", rep)
        #expect(one.fragDescriptors(of: 1)?.map(\.count) == [1, 1])
        #expect(one.liveAllocations == 4, "the clone's head, the buffer, two pages")
        let both = swift(Self.start + "skb_clone skb0\nkfree_skb skb0\nkfree_skb skb1", rep)
        #expect(both.liveAllocations == 0)
        // The C reference agrees call by call, and ends with nothing allocated either.
        let c = CImplementation(representation: rep, target: Target())
        for (i, call) in calls(Self.start + "skb_clone skb0\nkfree_skb skb0\nkfree_skb skb1").enumerated() { _ = c.run(call, pattern: UInt32(i)) }
        #expect(c.liveAllocations == 0)
    }

    @Test("the linear-only helpers on a nonlinear skb: skb_put BUGs, __skb_trim does nothing, __skb_pull BUGs past headlen",
          arguments: bothRepresentations)
    func linearOnlyHelpers(_ rep: RepresentationKind) {
        #expect(run(Self.start + "skb_put skb0 1", rep).last == .bug(.linearAssert))
        let trimmed = run(Self.start + "skb_trim skb0 5", rep)[0]
        #expect((trimmed.len, trimmed.dataLen) == (320, 300), "__skb_trim WARNs and returns")
        // len 320 - 21 = 299 < data_len 300: BUG_ON after the subtraction.
        let pulled = run(Self.start + "__skb_pull skb0 21", rep)
        #expect(pulled.last == .bug(.pullDataLen) && pulled[0].len == 299)
    }

    @Test("add_frag's own checks: a range past the page, frags[] full, alloc_page failing", arguments: bothRepresentations)
    func addFragChecks(_ rep: RepresentationKind) {
        #expect(run("alloc_skb 0\nadd_frag skb0 4000 97", rep).last == .error(-22))
        let full = "alloc_skb 0\n" + String(repeating: "add_frag skb0 0 1\n", count: 19)
        let r = run(full, rep)
        #expect(r.last == .error(-90) && r[0].nrFrags == 18 && r[0].len == 18)
        #expect(run("alloc_skb 0\nfail_next_alloc 1\nadd_frag skb0 0 1", rep).last == .error(-12))
    }
}

/// A divergence in the frags digest is shown frag by frag.
@Suite("Paged data in reports")
struct PagedReportTests {
    @Test("a page count one side forgot shows in the frag rows of the report")
    func fragRowsInTheReport() throws {
        // pskb_copy without get_page on the Swift side: the Swift pages stay at count 1, C's go to 2.
        let d = Differential(target: Target())
        d.switchOn(Mutant(.pskbCopyNoGetPage, .swift))
        let steps = calls(PagedTests.start + "pskb_copy skb0")
        let failure = try #require(d.run(steps).failure)
        #expect(failure.kind == .fidelityOffset && failure.step == 5)
        #expect(failure.differences.contains { $0.field == "frags" })
        let text = Report.divergence(failure, calls: steps)
        #expect(text.contains("frag 0") && text.contains("frag 1"))
        #expect(text.contains("page 4 [0, 100) count 1") && text.contains("page 4 [0, 100) count 2"))
        #expect(text.contains("page 5 [50, 250) count 2"))
    }
}
