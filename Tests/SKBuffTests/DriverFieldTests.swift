import SKBDiff
import SKBuff
import Testing

/// The fields drivers write (csum, ip_summed, mac_len, the gso fields, ip6_frag_id) and what the
/// helpers do with them, worked out by hand from the 2.6.24 sources (Specs/snapshot.md, "Driver
/// writes"), on the Swift model and the C reference in both representations.
@Suite("Driver-written fields through the helpers")
struct DriverFieldTests {
    /// Quirk 4: csum_start is the low half of the csum union; pskb_expand_head adds nhead to it with
    /// no carry into csum_offset. 0xfff0 + 32 = 0x10010, so the union becomes 0x1234_0010.
    @Test(arguments: bothRepresentations)
    func expandHeadAddsToCsumStartWithoutCarry(_ rep: RepresentationKind) {
        let r = run("""
            alloc_skb 100
            set_csum skb0 0x1234fff0 7
            pskb_expand_head skb0 32 0
            """, rep)
        #expect(r.outcomes == [.ok(0), .ok(0), .ok(0)])
        #expect(r[0].csum == 0x1234_0010)
        #expect(r[0].ipSummed == 3, "7 in a 2-bit field is 3")
        #expect(r[0].hdrLen == 0)
    }

    /// skb_copy_expand adds newheadroom - oldheadroom to the copy's csum_start: 16 - 0 here, and the
    /// copy takes the gso fields but not ip6_frag_id.
    @Test(arguments: bothRepresentations)
    func copyExpandMovesCsumStartAndTakesGso(_ rep: RepresentationKind) {
        let r = run("""
            alloc_skb 100
            set_csum skb0 0x00060002 1
            set_gso skb0 1448 0x10003
            set_gso_type skb0 5
            set_ip6_frag_id skb0 0xdeadbeef
            skb_copy_expand skb0 16 0
            """, rep)
        #expect(r[0].gsoSize == 1448 && r[0].gsoSegs == 3, "gso_segs is 16 bits: 0x10003 is 3")
        #expect(r[0].gsoType == 5 && r[0].ip6FragId == 0xDEAD_BEEF)
        #expect(r[1].csum == 0x0006_0012, "csum_start 2 + 16, csum_offset 6 kept")
        #expect(r[1].ipSummed == 1)
        #expect(r[1].gsoSize == 1448 && r[1].gsoSegs == 3 && r[1].gsoType == 5)
        #expect(r[1].ip6FragId == 0, "copy_skb_header does not copy ip6_frag_id")
    }

    /// pskb_expand_head copies the whole shared info: ip6_frag_id and the gso fields move with it.
    @Test(arguments: bothRepresentations)
    func expandHeadMovesTheWholeSharedInfo(_ rep: RepresentationKind) {
        let r = run("""
            alloc_skb 64
            set_gso skb0 536 2
            set_ip6_frag_id skb0 77
            pskb_expand_head skb0 0 64
            """, rep)
        #expect(r[0].gsoSize == 536 && r[0].gsoSegs == 2 && r[0].ip6FragId == 77 && r[0].dataref == 1)
    }

    /// __skb_clone takes mac_len and sets hdr_len = nohdr ? headroom : hdr_len; a copy takes neither.
    @Test(arguments: bothRepresentations)
    func cloneTakesMacLenAndHeaderLengthCopyDoesNot(_ rep: RepresentationKind) {
        let r = run("""
            alloc_skb 100
            skb_reserve skb0 16
            set_mac_len skb0 0x1000e
            skb_header_release skb0
            skb_clone skb0
            skb_copy skb1
            """, rep)
        #expect(r[0].macLen == 14, "mac_len is 16 bits: 0x1000e is 14")
        #expect(r[0].hdrLen == 0 && r[0].nohdr)
        #expect(r[1].macLen == 14 && r[1].hdrLen == 16 && !r[1].nohdr)
        #expect(r[2].macLen == 0 && r[2].hdrLen == 0)
    }

    /// A clone shares the shared info: gso written through the clone is seen by the original.
    @Test(arguments: bothRepresentations)
    func aCloneSharesTheSharedInfo(_ rep: RepresentationKind) {
        let r = run("""
            alloc_skb 100
            skb_clone skb0
            set_gso_type skb1 4
            """, rep)
        #expect(r[0].gsoType == 4 && r[1].gsoType == 4)
    }
}
