import CSKBuff
import SKBDiff
import SKBuff
import Testing

@Suite("Allocation (spec section 1)")
struct AllocationTests {
    @Test("alloc_skb(100) on x86_64 minimal, 128-byte lines: end 128, truesize 128 + sizeof(sk_buff)", arguments: bothRepresentations)
    func allocSkb100(rep: RepresentationKind) {
        let r = run("alloc_skb 100", rep)
        #expect(r.last == .ok(0))
        #expect(r[0].end == 128)
        #expect(r[0].truesize == (rep == .offset ? 320 : 336))
        #expect(r[0].data == 0 && r[0].tail == 0 && r[0].headroom == 0 && r[0].tailroom == 128)
        #expect(r[0].users == 1 && r[0].dataref == 1 && !r[0].cloned && r[0].fclone == .unavailable)
    }

    @Test("SKB_DATA_ALIGN rounds to the cache line: 128 stays, 129 becomes 256", arguments: bothRepresentations)
    func alignment(rep: RepresentationKind) {
        let r = run("alloc_skb 128\nalloc_skb 129\nalloc_skb 0", rep)
        #expect(r[0].end == 128)
        #expect(r[1].end == 256)
        #expect(r[2].end == 0 && r[2].tailroom == 0)
    }

    @Test("SMP_CACHE_BYTES 16 and 64 change the alignment", arguments: [(UInt32(16), Int64(112)), (64, 128), (32, 128)])
    func cacheLines(cache: UInt32, end: Int64) {
        let r = run("alloc_skb 100", .offset, target: Target(cacheLine: cache))
        #expect(r[0].end == end)
    }

    @Test("kmalloc beyond KMALLOC_MAX_SIZE (4 MiB) fails: the largest aligned size that fits is 4 MiB - 384", arguments: bothRepresentations)
    func kmallocLimit(rep: RepresentationKind) {
        let r = run("alloc_skb 4193920\nalloc_skb 4193921", rep)
        #expect(r.outcomes[0] == .ok(0))
        #expect(r[0].end == 4_193_920)
        #expect(r.outcomes[1] == .null)
        #expect(r.states[1] == nil)
    }

    @Test("alloc_skb(0xFFFFFFFF): SKB_DATA_ALIGN wraps the unsigned int to 0", arguments: bothRepresentations)
    func allocWraps(rep: RepresentationKind) {
        let r = run("alloc_skb 4294967295", rep)
        #expect(r.last == .ok(0))
        #expect(r[0].end == 0)
        #expect(r[0].truesize == skbSize(rep))
    }

    @Test("alloc_skb_fclone marks ORIG and the first clone takes the companion", arguments: bothRepresentations)
    func fclone(rep: RepresentationKind) {
        let r = run("alloc_skb_fclone 100\nskb_clone skb0", rep)
        #expect(r[0].fclone == .orig)
        #expect(r[1].fclone == .clone)
        #expect(r[0].dataref == 2 && r[1].dataref == 2)
        #expect(r[0].cloned && r[1].cloned)
    }

    @Test("a freed fclone companion is reused by the next skb_clone", arguments: bothRepresentations)
    func fcloneReuse(rep: RepresentationKind) {
        let r = run("alloc_skb_fclone 100\nskb_clone skb0\nkfree_skb skb1\nskb_clone skb0\nskb_clone skb0", rep)
        #expect(r[2].fclone == .clone)
        #expect(r[3].fclone == .unavailable, "the companion is taken: the third clone comes from the head cache")
        #expect(r[0].dataref == 3)
    }

    @Test("dev_alloc_skb reserves NET_SKB_PAD (16)", arguments: bothRepresentations)
    func devAlloc(rep: RepresentationKind) {
        let r = run("dev_alloc_skb 100", rep)
        #expect(r[0].end == 128 && r[0].data == 16 && r[0].tail == 16 && r[0].headroom == 16 && r[0].tailroom == 112)
    }

    @Test("alloc_skb_from_cache: Xen's 4096-byte objects fit 3712 bytes on x86_64, one more overflows", arguments: bothRepresentations)
    func xenCacheX86_64(rep: RepresentationKind) {
        let r = run("alloc_skb_from_cache 4096 3712\nalloc_skb_from_cache 4096 3713", rep)
        #expect(r.outcomes[0] == .ok(0))
        #expect(r[0].end == 3712 && r[0].truesize == 3712 + skbSize(rep))
        #expect(r.outcomes[1] == .overflow)
        #expect(r.states[1] == nil)
    }

    @Test("alloc_skb_from_cache on i386: the smaller skb_shared_info (236 bytes) lets 3840 fit")
    func xenCacheI386() {
        let target = Target(arch: .i386)
        for rep in bothRepresentations {
            let r = run("alloc_skb_from_cache 4096 3840\nalloc_skb_from_cache 4096 3841", rep, target: target)
            #expect(r.outcomes[0] == .ok(0))
            #expect(r[0].end == 3840)
            #expect(r.outcomes[1] == .overflow)
        }
    }

    @Test("a cache whose objects exceed KMALLOC_MAX_SIZE cannot be created", arguments: bothRepresentations)
    func hugeCache(rep: RepresentationKind) {
        #expect(run("alloc_skb_from_cache 4194305 100", rep).last == .null)
    }

    @Test("i386 sizes: sk_buff is 152 bytes in both representations, shinfo 236")
    func i386Sizes() {
        let target = Target(arch: .i386)
        #expect(skbSize(.offset, target) == 152 && skbSize(.pointer, target) == 152)
        #expect(Sizing(target: target, representation: .pointer).sharedInfo == 236)
        #expect(run("alloc_skb 100", .pointer, target: target)[0].truesize == 280)
    }

    @Test("Swift imports the struct C compiled: MemoryLayout matches the C sizeof for every variant")
    func memoryLayout() {
        #expect(MemoryLayout<off_minimal_sk_buff>.size == Int(off_minimal_skbref_variant.sizeof_sk_buff))
        #expect(MemoryLayout<ptr_minimal_sk_buff>.size == Int(ptr_minimal_skbref_variant.sizeof_sk_buff))
        #expect(MemoryLayout<off_distro_sk_buff>.size == Int(off_distro_skbref_variant.sizeof_sk_buff))
        #expect(MemoryLayout<ptr_distro_sk_buff>.size == Int(ptr_distro_skbref_variant.sizeof_sk_buff))
        #expect(MemoryLayout<off_minimal_sk_buff>.size == 192)
        #expect(MemoryLayout<ptr_minimal_sk_buff>.size == 208)
        #expect(MemoryLayout<off_minimal_sk_buff>.offset(of: \off_minimal_sk_buff.tail) == 156)
        #expect(MemoryLayout<ptr_minimal_sk_buff>.offset(of: \ptr_minimal_sk_buff.tail) == 168)
        #expect(MemoryLayout<off_minimal_sk_buff_data_t>.size == 4)
        #expect(MemoryLayout<ptr_minimal_sk_buff_data_t>.size == 8)
    }

    @Test("the Swift layout engine gives the C reference's sizes for every profile")
    func layoutEngineMatchesC() {
        for config in ConfigProfile.allCases {
            for rep in bothRepresentations {
                let v = CImplementation.variant(rep, config)
                let s = Sizing(target: Target(config: config), representation: rep)
                #expect(s.skBuff == v.sizeof_sk_buff, "\(rep) \(config)")
                #expect(s.sharedInfo == v.sizeof_skb_shared_info)
                #expect(s.dataT == v.sizeof_sk_buff_data_t)
            }
        }
    }
}
