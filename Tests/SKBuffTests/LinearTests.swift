import SKBDiff
import SKBuff
import Testing

@Suite("Linear-area operations (spec section 2)")
struct LinearTests {
    @Test("reserve then put: data 16, tail 36, len 20; skb_put returns the old tail", arguments: bothRepresentations)
    func reservePut(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_put skb0 20", rep)
        #expect(r.last == .ok(16))
        #expect(r[0].data == 16 && r[0].tail == 36 && r[0].len == 20 && r[0].tailroom == 92)
    }

    @Test("the book's Figure 12-7: data first, then the TCP header, then the IP header pushed in front", arguments: bothRepresentations)
    func tcpThenIp(rep: RepresentationKind) {
        let r = run("""
            alloc_skb 200
            skb_reserve skb0 64
            skb_put skb0 100
            skb_push skb0 20
            skb_reset_transport_header skb0
            skb_push skb0 20
            skb_reset_network_header skb0
            """, rep)
        #expect(r.outcomes[3] == .ok(44) && r.outcomes[5] == .ok(24))
        #expect(r[0].end == 256 && r[0].data == 24 && r[0].tail == 164 && r[0].len == 140)
        #expect(r[0].transport == .offset(44) && r[0].network == .offset(24))
        #expect(r[0].headroom == 24 && r[0].tailroom == 92)
    }

    @Test("put exactly the tailroom, then one more: skb_over_panic after tail and len moved", arguments: bothRepresentations)
    func putBoundary(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_put skb0 128\nskb_put skb0 1", rep)
        #expect(r.outcomes[1] == .ok(0))
        #expect(r.outcomes[2] == .panicOver)
        #expect(r[0].tail == 129 && r[0].len == 129 && r.states[0]?.frozen == true)
    }

    @Test("push exactly the headroom, then one more: skb_under_panic with data below head", arguments: bothRepresentations)
    func pushBoundary(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_push skb0 16\nskb_push skb0 1", rep)
        #expect(r.outcomes[2] == .ok(0))
        #expect(r.outcomes[3] == .panicUnder)
        #expect(r[0].data == -1 && r[0].len == 17 && r.states[0]?.frozen == true)
    }

    @Test("a frozen skb takes no further operations", arguments: bothRepresentations)
    func frozenSkipsCalls(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_put skb0 129\nskb_put skb0 1", rep)
        #expect(r.outcomes[1] == .panicOver)
        #expect(r.outcomes[2] == nil)
        #expect(r[0].len == 129)
    }

    @Test("pull len, then len + 1: NULL once skb->len is exceeded", arguments: bothRepresentations)
    func pullBoundary(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_put skb0 20\nskb_pull skb0 20\nskb_pull skb0 1", rep)
        #expect(r.outcomes[2] == .ok(20))
        #expect(r.outcomes[3] == .null)
        #expect(r[0].len == 0 && r[0].data == 20)
    }

    @Test("quirk 7: __skb_pull past len wraps len and does not BUG", arguments: bothRepresentations)
    func quirk7OverPull(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_put skb0 20\n__skb_pull skb0 21", rep)
        #expect(r.last == .ok(21))
        #expect(r[0].len == UInt32.max && r[0].data == 21)
    }

    @Test("reserve then put to the end: tailroom 0", arguments: bothRepresentations)
    func reserveToEnd(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 28\nskb_put skb0 100", rep)
        #expect(r.last == .ok(28))
        #expect(r[0].tail == 128 && r[0].tailroom == 0)
    }

    @Test("skb_trim shortens only; __skb_trim sets len and tail unconditionally", arguments: bothRepresentations)
    func trims(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 8\nskb_put skb0 50\nskb_trim skb0 20\nskb_trim skb0 30", rep)
        #expect(r[0].len == 20 && r[0].tail == 28)
        let g = run("alloc_skb 100\nskb_put skb0 10\n__skb_trim skb0 40", rep)
        #expect(g[0].len == 40 && g[0].tail == 40)
    }

    @Test("skb_headroom and skb_tailroom return data - head and end - tail", arguments: bothRepresentations)
    func rooms(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 10\nskb_put skb0 30\nskb_headroom skb0\nskb_tailroom skb0", rep)
        #expect(r.outcomes[3] == .ok(10) && r.outcomes[4] == .ok(88))
    }

    @Test("__skb_put and __skb_push do not check; writing past the buffer is overflow", arguments: bothRepresentations)
    func uncheckedPutPush(rep: RepresentationKind) {
        let r = run("alloc_skb 100\n__skb_put skb0 128\n__skb_push skb0 0", rep)
        #expect(r.outcomes[1] == .ok(0) && r.outcomes[2] == .ok(0))
        let o = run("alloc_skb 100\n__skb_put skb0 129", rep)
        #expect(o.last == .overflow)
        let u = run("alloc_skb 100\n__skb_push skb0 1", rep)
        #expect(u.last == .overflow, "the pattern would be written below head")
    }

    @Test("skb_put and skb_push write the pattern: the digest covers [data, tail)", arguments: bothRepresentations)
    func bytes(rep: RepresentationKind) {
        let a = run("alloc_skb 100\nskb_reserve skb0 16\nskb_put skb0 20\nskb_push skb0 4", rep)
        let b = run("alloc_skb 100\nskb_reserve skb0 16\nskb_put skb0 20\nskb_push skb0 4\nskb_pull skb0 4", rep)
        #expect(a[0].digest != nil && b[0].digest != nil)
        #expect(a[0].digest != b[0].digest)
        let kernel = Kernel<OffsetRepresentation>(target: Target())
        let skb = try! kernel.alloc_skb(10)!
        _ = try! kernel.skb_put(skb, 3)
        try! kernel.fillPattern(skb, start: 0, count: 3, pattern: 2)
        #expect(kernel.packetBytes(skb) == [58, 59, 60], "(2 * 157 + k) mod 256")
    }

    @Test("header setters take signed offsets from data; getters report offsets from head", arguments: bothRepresentations)
    func headers(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_set_mac_header skb0 -14\nskb_set_network_header skb0 2\nskb_reset_transport_header skb0", rep)
        #expect(r[0].mac == .offset(2) && r[0].network == .offset(18) && r[0].transport == .offset(16))
        let w = run("alloc_skb 100\nskb_set_mac_header skb0 -1", rep)
        #expect(w[0].mac == .wild)
    }

    @Test("tail pointer helpers: set, reset, skb_tail_pointer and skb_end_pointer", arguments: bothRepresentations)
    func tailPointer(rep: RepresentationKind) {
        let r = run("alloc_skb 100\nskb_reserve skb0 10\nskb_set_tail_pointer skb0 30\nskb_tail_pointer skb0\nskb_end_pointer skb0\nskb_reset_tail_pointer skb0", rep)
        #expect(r.outcomes[3] == .ok(40) && r.outcomes[4] == .ok(128))
        #expect(r[0].tail == 10)
    }

    @Test("quirk 3: skb_put wraps the u32 tail under OFF and passes the check; PTR panics")
    func quirk3PutWrap() {
        let off = run("alloc_skb 100\nskb_put skb0 10\nskb_put skb0 4294967290", .offset)
        #expect(off.last == .ok(10))
        #expect(off[0].tail == 4 && off[0].len == 4)
        let ptr = run("alloc_skb 100\nskb_put skb0 10\nskb_put skb0 4294967290", .pointer)
        #expect(ptr.last == .panicOver)
        #expect(ptr[0].tail == 10 + 4_294_967_290)
    }

    @Test("quirk 3 on i386: a 32-bit pointer wraps too; skb_push wraps data in both representations")
    func quirk3I386() {
        let target = Target(arch: .i386)
        for rep in bothRepresentations {
            let r = run("alloc_skb 100\nskb_reserve skb0 16\nskb_push skb0 4294967295", rep, target: target)
            // data - 0xFFFFFFFF is data + 1 with 32-bit pointers: no under-panic; the 4 GiB the caller
            // would then write is the overflow.
            #expect(r.last == .overflow)
            #expect(r[0].data == 17)
        }
        let put = run("alloc_skb 100\nskb_put skb0 10\nskb_put skb0 4294967290", .pointer, target: target)
        #expect(put.last == .ok(10))
    }

    @Test("quirk 2: skb_mac_header_was_set on a fresh skb is 1 under OFF and 0 under PTR")
    func quirk2MacHeaderWasSet() {
        #expect(run("alloc_skb 10\nskb_mac_header_was_set skb0", .offset).last == .ok(1))
        #expect(run("alloc_skb 10\nskb_mac_header_was_set skb0", .pointer).last == .ok(0))
        #expect(run("alloc_skb 10\nskb_reset_mac_header skb0\nskb_mac_header_was_set skb0", .pointer).last == .ok(1))
    }
}
