import SKBDiff
import SKBuff
import Testing

@Suite("Copies and reallocation (spec section 4)")
struct CopyTests {
    @Test("skb_copy keeps headroom and len; a set header stays at its offset in both representations", arguments: bothRepresentations)
    func skbCopy(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_put skb0 20\nskb_reset_network_header skb0\nskb_copy skb0", rep)
        #expect(r[1].data == 16 && r[1].tail == 36 && r[1].end == 128 && r[1].len == 20)
        #expect(r[1].network == .offset(16))
        #expect(r[1].digest == r[0].digest)
        #expect(r[1].truesize == 128 + skbSize(rep))
    }

    @Test("quirk 1: skb_copy rebases never-set headers into wild pointers under PTR, not under OFF")
    func quirk1Copy() {
        #expect(run("alloc_skb 100\nskb_copy skb0", .offset)[1].mac == .offset(0))
        #expect(run("alloc_skb 100\nskb_copy skb0", .pointer)[1].mac == .wild)
    }

    @Test("quirk 1: pskb_expand_head moves an unset header to nhead under OFF, to a wild pointer under PTR")
    func quirk1Expand() {
        #expect(run("alloc_skb 100\npskb_expand_head skb0 32 0", .offset)[0].transport == .offset(32))
        #expect(run("alloc_skb 100\npskb_expand_head skb0 32 0", .pointer)[0].transport == .wild)
    }

    @Test("pskb_copy copies only [data, tail): the headroom bytes stay zero; skb_copy copies them", arguments: bothRepresentations)
    func pskbCopyHeadroom(rep: RepresentationKind) {
        let r = run("""
            alloc_skb 100
            skb_reserve skb0 16
            skb_put skb0 20
            skb_push skb0 4
            skb_pull skb0 4
            pskb_copy skb0
            skb_copy skb0
            skb_reserve skb0 -4
            skb_reserve skb1 -4
            skb_reserve skb2 -4
            """, rep)
        #expect(r[0].digest == r[2].digest)
        #expect(r[0].digest != r[1].digest)
        #expect(r[1].headroom == 12 && r[1].len == 20)
    }

    @Test("pskb_expand_head grows headroom by nhead and end to SKB_DATA_ALIGN(nhead + end + ntail)", arguments: bothRepresentations)
    func expand(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_put skb0 20\nskb_reset_mac_header skb0\npskb_expand_head skb0 32 8", rep)
        #expect(r.last == .ok(0))
        #expect(r[0].data == 48 && r[0].tail == 68 && r[0].end == 256 && r[0].mac == .offset(48))
        #expect(r[0].headroom == 48 && r[0].tailroom == 188)
    }

    @Test("quirk 5: pskb_expand_head leaves truesize as it was", arguments: bothRepresentations)
    func quirk5Truesize(rep: RepresentationKind) {
        let r = run("alloc_skb 100\npskb_expand_head skb0 512 512", rep)
        #expect(r[0].end == 1152)
        #expect(r[0].truesize == 128 + skbSize(rep))
    }

    @Test("pskb_expand_head on a shared skb is BUG", arguments: bothRepresentations)
    func expandShared(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_get skb0\npskb_expand_head skb0 16 0", rep)
        #expect(r.last == .bug(.expandShared))
    }

    @Test("pskb_expand_head past KMALLOC_MAX_SIZE fails with -ENOMEM and changes nothing", arguments: bothRepresentations)
    func expandNomem(rep: RepresentationKind) {
        let r = run("alloc_skb 100\npskb_expand_head skb0 0 8388608", rep)
        #expect(r.last == .ok(-12) || r.last == .error(-12))
        #expect(r[0].end == 128)
    }

    @Test("skb_realloc_headroom: a clone expanded by SKB_DATA_ALIGN(delta); the original keeps its buffer", arguments: bothRepresentations)
    func reallocHeadroom(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_put skb0 20\nskb_realloc_headroom skb0 64", rep)
        #expect(r[1].headroom == 16 + 128 && r[1].len == 20 && r[1].digest == r[0].digest)
        #expect(r[0].headroom == 16 && r[0].dataref == 1 && r[1].dataref == 1)
        let small = run("alloc_skb 100\nskb_reserve skb0 16\nskb_realloc_headroom skb0 8", rep)
        #expect(small[1].headroom == 16, "delta <= 0 gives pskb_copy: the headroom is not reduced")
    }

    @Test("skb_copy_expand sets the new head- and tailroom and keeps the data", arguments: bothRepresentations)
    func copyExpand(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_put skb0 20\nskb_reset_network_header skb0\nskb_copy_expand skb0 32 16", rep)
        #expect(r[1].data == 32 && r[1].tail == 52 && r[1].end == 128 && r[1].digest == r[0].digest)
        #expect(r[1].network == .offset(32), "OFF adds newheadroom - oldheadroom itself; PTR did it in copy_skb_header")
    }

    @Test("skb_copy_expand with a negative headroom puts data below head and copies from data + 8", arguments: bothRepresentations)
    func copyExpandNegative(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_put skb0 20\nskb_copy_expand skb0 -8 0", rep)
        #expect(r.last == .ok(0))
        #expect(r[1].data == -8 && r[1].len == 20 && r[1].digest == nil)
    }

    @Test("skb_cow expands by ALIGN(delta, 16) when short of headroom, and unclones a cloned skb", arguments: bothRepresentations)
    func cow(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_cow skb0 40", rep)
        #expect(r.last == .ok(0) && r[0].headroom == 48 && r[0].end == 256)
        let c = run("alloc_skb 100\nskb_reserve skb0 16\nskb_clone skb0\nskb_cow skb0 8", rep)
        #expect(!c[0].cloned && c[0].dataref == 1 && c[1].dataref == 1 && c[0].headroom == 16)
    }

    @Test("skb_cow_head ignores a clone whose header was released", arguments: bothRepresentations)
    func cowHead(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_clone skb0\nskb_header_release skb1\nskb_cow_head skb0 16", rep)
        #expect(r[0].cloned, "header not cloned: no expansion")
        #expect(r[0].dataref == 0x10002)
    }

    @Test("skb_pad zeroes past the data without moving tail; expands when short of tailroom", arguments: bothRepresentations)
    func pad(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_put skb0 20\nskb_pad skb0 60", rep)
        #expect(r.last == .ok(0) && r[0].len == 20 && r[0].tail == 20 && r[0].end == 128)
        let e = run("alloc_skb 100\nskb_put skb0 20\nskb_pad skb0 200", rep)
        #expect(e.last == .ok(0) && e[0].end == 256 && e[0].len == 20)
    }

    @Test("skb_padto pads up to len; a failing pad frees the skb", arguments: bothRepresentations)
    func padto(rep: RepresentationKind) {
        let r = run("alloc_skb 10\nskb_put skb0 10\nskb_padto skb0 60", rep)
        #expect(r.last == .ok(0) && r[0].end == 128)
        let f = run("alloc_skb 10\nskb_padto skb0 8388608", rep)
        #expect(f.last == .ok(-12) || f.last == .error(-12))
        #expect(f.states[0] == nil, "skb_pad freed the skb on failure")
    }
}
