import CSKBuff
import SKBDiff
import SKBuff
import Testing

/// Snapshots are compared as bytes and C snapshots become Swift ones by a bit copy, which holds only
/// while SKBState has no padding and mirrors struct skbref_state field for field.
@Suite("Plain snapshots: SKBState is struct skbref_state, byte for byte")
struct PlainStateTests {
    @Test func sizesLeaveNoPadding() {
        #expect(MemoryLayout<SKBState>.size == SKBState.plainSize)
        #expect(MemoryLayout<SKBState>.stride == SKBState.plainSize)
        #expect(MemoryLayout<skbref_state>.size == SKBState.plainSize)
        #expect(MemoryLayout<ReferenceState>.size == MemoryLayout<ReferenceState>.stride)
        #expect(MemoryLayout<ReferenceState>.offset(of: \ReferenceState.state) == 0)
    }

    @Test func publicFieldsSitWhereTheCFieldsDo() {
        func same<A, B>(_ a: KeyPath<SKBState, A>, _ b: KeyPath<skbref_state, B>) -> Bool {
            MemoryLayout<SKBState>.offset(of: a) == MemoryLayout<skbref_state>.offset(of: b)
                && MemoryLayout<A>.size == MemoryLayout<B>.size
        }
        #expect(same(\.data, \.data))
        #expect(same(\.tail, \.tail))
        #expect(same(\.end, \.end))
        #expect(same(\.len, \.len))
        #expect(same(\.dataLen, \.data_len))
        #expect(same(\.truesize, \.truesize))
        #expect(same(\.headroom, \.headroom))
        #expect(same(\.tailroom, \.tailroom))
        #expect(same(\.users, \.users))
        #expect(same(\.dataref, \.dataref))
        #expect(same(\.cloned, \.cloned))
        #expect(same(\.nohdr, \.nohdr))
        #expect(same(\.fclone, \.fclone))
        #expect(same(\.ipSummed, \.ip_summed))
        #expect(same(\.csum, \.csum))
        #expect(same(\.hdrLen, \.hdr_len))
        #expect(same(\.macLen, \.mac_len))
        #expect(same(\.nrFrags, \.nr_frags))
        #expect(same(\.gsoSize, \.gso_size))
        #expect(same(\.gsoSegs, \.gso_segs))
        #expect(same(\.gsoType, \.gso_type))
        #expect(same(\.ip6FragId, \.ip6_frag_id))
    }

    /// Every field of a C state, each with its own value, reads back through the Swift accessors.
    @Test func aCStateReadsBackThroughTheSwiftView() {
        var c = skbref_state()
        c.data = -3
        c.tail = 70
        c.end = 192
        c.header = (14, 0, 0)
        c.header_kind = (0, 1, 2)
        c.digest = 0xDEAD_BEEF_0123_4567
        c.digest_valid = 1
        c.len = 73
        c.data_len = 5
        c.truesize = 448
        c.headroom = 11
        c.tailroom = -2
        c.users = 2
        c.dataref = 0x10001
        c.cloned = 1
        c.nohdr = 1
        c.fclone = 2
        c.ip_summed = 3
        c.csum = 0x1234_0010
        c.hdr_len = 16
        c.mac_len = 14
        c.nr_frags = 1
        c.gso_size = 1448
        c.gso_segs = 3
        c.gso_type = 5
        c.ip6_frag_id = 0xDEAD_BEEF
        let s = unsafeBitCast(c, to: SKBState.self)
        let expected = SKBState(
            data: -3, tail: 70, end: 192, len: 73, dataLen: 5, truesize: 448, headroom: 11, tailroom: -2, users: 2,
            dataref: 0x10001, cloned: true, nohdr: true, fclone: .clone, mac: .offset(14), network: .unset,
            transport: .wild, digest: 0xDEAD_BEEF_0123_4567)
        #expect(s != expected, "the driver-written fields are still 0 in expected")
        var full = expected
        full.ipSummed = 3
        full.csum = 0x1234_0010
        full.hdrLen = 16
        full.macLen = 14
        full.nrFrags = 1
        full.gsoSize = 1448
        full.gsoSegs = 3
        full.gsoType = 5
        full.ip6FragId = 0xDEAD_BEEF
        #expect(s == full)
        #expect(s.mac == .offset(14) && s.network == .unset && s.transport == .wild)
        #expect(s.fclone == .clone && s.digest == 0xDEAD_BEEF_0123_4567)
        var noDigest = c
        noDigest.digest_valid = 0
        noDigest.digest = 0
        #expect(unsafeBitCast(noDigest, to: SKBState.self).digest == nil)
    }

    /// differenceMask's bits are the table's fields, in the table's order, one by one.
    @Test func differenceMaskFollowsTheFieldTable() {
        let base = SKBState(
            data: 16, tail: 80, end: 192, len: 64, dataLen: 0, truesize: 448, headroom: 16, tailroom: 112, users: 1,
            dataref: 1, cloned: false, nohdr: false, fclone: .unavailable, mac: .offset(16), network: .unset,
            transport: .offset(30), digest: 42)
        let edits: [(String, (inout SKBState) -> Void)] = [
            ("data", { $0.data += 1 }), ("tail", { $0.tail += 1 }), ("end", { $0.end += 1 }), ("len", { $0.len += 1 }),
            ("data_len", { $0.dataLen += 1 }), ("truesize", { $0.truesize += 1 }), ("headroom", { $0.headroom += 1 }),
            ("tailroom", { $0.tailroom += 1 }), ("users", { $0.users += 1 }), ("dataref", { $0.dataref += 1 }),
            ("cloned", { $0.cloned.toggle() }), ("nohdr", { $0.nohdr.toggle() }), ("fclone", { $0.fclone = .orig }),
            ("mac_header", { $0.mac = .wild }), ("network_header", { $0.network = .offset(0) }),
            ("transport_header", { $0.transport = .offset(31) }), ("digest", { $0.digest = nil }),
            ("csum", { $0.csum = 0x10000 }), ("ip_summed", { $0.ipSummed = 2 }), ("hdr_len", { $0.hdrLen = 1 }),
            ("mac_len", { $0.macLen = 14 }), ("nr_frags", { $0.nrFrags = 1 }), ("gso_size", { $0.gsoSize = 1 }),
            ("gso_segs", { $0.gsoSegs = 1 }), ("gso_type", { $0.gsoType = 1 }), ("ip6_frag_id", { $0.ip6FragId = 1 }),
            ("frags", { $0.fragsDigest = 7 }), ("packet", { $0.packetDigest = 9 }),
        ]
        #expect(edits.map(\.0) == SKBState.fieldNames)
        #expect(base.differenceMask(base) == 0)
        for (k, (name, edit)) in edits.enumerated() {
            var other = base
            edit(&other)
            #expect(base.differenceMask(other) == 1 << UInt32(k), "\(name)")
            #expect(SKBState.table[k].differs(base, other), "\(name)")
            #expect(base != other, "\(name)")
        }
    }
}
