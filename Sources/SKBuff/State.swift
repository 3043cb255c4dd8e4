/// Why a call stopped where the kernel would have died (spec section 8).
public enum KernelStop: Error, Hashable, Sendable {
    case panicOver
    case panicUnder
    case bug(BugCheck)
    /// The kernel would have touched memory outside an object (Specs/snapshot.md, "Bytes").
    case overflow
}

/// Which BUG()/BUG_ON() fired. The raw values are the C reference's enum skbref_bug.
public enum BugCheck: Int32, CaseIterable, Hashable, Sendable {
    case linearAssert = 1
    case pullDataLen = 2
    case headerRelease = 3
    case expandShared = 4
    case copyBits = 5
    case badFree = 6
    /// A kernel tree's BUG() that none of the others names (`--kernel-tree`, Specs/kernel.md).
    case other = 7

    public var name: String {
        switch self {
        case .linearAssert: return "linear_assert"
        case .pullDataLen: return "pull_data_len"
        case .headerRelease: return "header_release"
        case .expandShared: return "expand_shared"
        case .copyBits: return "copy_bits"
        case .badFree: return "bad_free"
        case .other: return "other"
        }
    }
}

/// How a call ended, as both sides report it (Specs/snapshot.md, "One call").
public enum Outcome: Hashable, Sendable, CustomStringConvertible {
    case ok(Int64)
    case null
    case error(Int64)
    case panicOver
    case panicUnder
    case bug(BugCheck)
    case overflow

    public var kindName: String {
        switch self {
        case .ok: return "ok"
        case .null: return "NULL"
        case .error: return "error"
        case .panicOver: return "panic over"
        case .panicUnder: return "panic under"
        case .bug: return "BUG"
        case .overflow: return "overflow"
        }
    }

    public var description: String {
        switch self {
        case let .ok(v): return "ok \(v)"
        case let .error(e): return "error \(e)"
        case let .bug(b): return "BUG \(b.name)"
        default: return kindName
        }
    }

    @inlinable public static func == (a: Outcome, b: Outcome) -> Bool {
        switch (a, b) {
        case let (.ok(x), .ok(y)), let (.error(x), .error(y)): return x == y
        case let (.bug(x), .bug(y)): return x == y
        case (.null, .null), (.panicOver, .panicOver), (.panicUnder, .panicUnder), (.overflow, .overflow): return true
        default: return false
        }
    }

    /// The call stopped the skb: it takes no further operations.
    public var freezes: Bool {
        switch self {
        case .panicOver, .panicUnder, .bug, .overflow: return true
        default: return false
        }
    }

    @inlinable public init(_ stop: KernelStop) {
        switch stop {
        case .panicOver: self = .panicOver
        case .panicUnder: self = .panicUnder
        case let .bug(b): self = .bug(b)
        case .overflow: self = .overflow
        }
    }
}

/// Where a header field points, normalised so both representations compare (Specs/snapshot.md).
public enum HeaderPosition: Hashable, Sendable, CustomStringConvertible {
    case offset(Int64)
    case unset
    case wild

    public var description: String {
        switch self {
        case let .offset(o): return String(o)
        case .unset: return "unset"
        case .wild: return "wild"
        }
    }

    /// The plain form SKBState stores: kind 0 offset, 1 unset, 2 wild (as enum skbref_header_kind).
    @inlinable init(kind: UInt8, offset: Int64) {
        switch kind {
        case 0: self = .offset(offset)
        case 1: self = .unset
        default: self = .wild
        }
    }

    @inlinable public static func == (a: HeaderPosition, b: HeaderPosition) -> Bool {
        let x = a.stored, y = b.stored
        return x.0 == y.0 && x.1 == y.1
    }

    @inlinable public func hash(into h: inout Hasher) {
        h.combine(stored.0)
        h.combine(stored.1)
    }

    @inlinable var stored: (UInt8, Int64) {
        switch self {
        case let .offset(o): return (0, o)
        case .unset: return (1, 0)
        case .wild: return (2, 0)
        }
    }
}

public enum FcloneState: UInt8, Hashable, Sendable {
    case unavailable = 0
    case orig = 1
    case clone = 2
}

/// The observable state of one sk_buff: the comparison contract of Specs/snapshot.md.
/// Stored as plain integers (headers as kind and offset, the digest with a flag), in the order and
/// widths of the C reference's struct skbref_state and without a byte of padding: every byte is a
/// field, so snapshots copy as a block, compare with memcmp, and a C snapshot converts by a bit copy.
/// The accessors give the typed view.
public struct SKBState: Hashable, Sendable {
    public var data: Int64
    public var tail: Int64
    public var end: Int64
    @usableFromInline var headerOffsets: (Int64, Int64, Int64)
    @usableFromInline var digestValue: UInt64
    public var len: UInt32
    public var dataLen: UInt32
    public var truesize: UInt32
    public var headroom: UInt32
    public var tailroom: Int32
    public var users: UInt32
    public var dataref: UInt32
    public var cloned: Bool
    public var nohdr: Bool
    public var fclone: FcloneState
    @usableFromInline var hasDigest: Bool
    @usableFromInline var headerKinds: (UInt8, UInt8, UInt8)
    /// The 2-bit ip_summed.
    public var ipSummed: UInt8
    /// The union { __wsum csum; struct { __u16 csum_start, csum_offset; } } as one little-endian word.
    public var csum: UInt32
    public var hdrLen: UInt16
    public var macLen: UInt16
    /// Of skb_shinfo(skb), as dataref: 0 when the shared info is not inside the buffer.
    public var nrFrags: UInt16
    public var gsoSize: UInt16
    public var gsoSegs: UInt16
    public var gsoType: UInt16
    public var ip6FragId: UInt32
    /// Of the nr_frags frag descriptors and their pages' counts (Specs/paged.md): 0 without frags.
    public var fragsDigest: UInt64
    /// Of the len bytes skb_copy_bits(skb, 0, buf, len) copies, when the skb is nonlinear and that copy
    /// stays inside the head and live pages (Specs/paged.md); else 0.
    public var packetDigest: UInt64

    /// All zero: offsets 0, no digest, headers at offset 0.
    @inlinable
    public init() {
        self.init(data: 0, tail: 0, end: 0, len: 0, dataLen: 0, truesize: 0, headroom: 0, tailroom: 0, users: 0,
                  dataref: 0, cloned: false, nohdr: false, fclone: .unavailable, mac: .offset(0), network: .offset(0),
                  transport: .offset(0), digest: nil)
    }

    /// The size every SKBState has: 128 bytes, equal to its stride and to sizeof(struct skbref_state).
    public static let plainSize = 128

    @inlinable
    public init(data: Int64, tail: Int64, end: Int64, len: UInt32, dataLen: UInt32, truesize: UInt32,
                headroom: UInt32, tailroom: Int32, users: UInt32, dataref: UInt32, cloned: Bool, nohdr: Bool,
                fclone: FcloneState, mac: HeaderPosition, network: HeaderPosition, transport: HeaderPosition,
                digest: UInt64?) {
        self.data = data
        self.tail = tail
        self.end = end
        headerOffsets = (0, 0, 0)
        digestValue = digest ?? 0
        self.len = len
        self.dataLen = dataLen
        self.truesize = truesize
        self.headroom = headroom
        self.tailroom = tailroom
        self.users = users
        self.dataref = dataref
        self.cloned = cloned
        self.nohdr = nohdr
        self.fclone = fclone
        hasDigest = digest != nil
        headerKinds = (0, 0, 0)
        ipSummed = 0
        csum = 0
        hdrLen = 0
        macLen = 0
        nrFrags = 0
        gsoSize = 0
        gsoSegs = 0
        gsoType = 0
        ip6FragId = 0
        fragsDigest = 0
        packetDigest = 0
        self.mac = mac
        self.network = network
        self.transport = transport
    }

    @inlinable public var mac: HeaderPosition {
        get { HeaderPosition(kind: headerKinds.0, offset: headerOffsets.0) }
        set { (headerKinds.0, headerOffsets.0) = newValue.stored }
    }
    @inlinable public var network: HeaderPosition {
        get { HeaderPosition(kind: headerKinds.1, offset: headerOffsets.1) }
        set { (headerKinds.1, headerOffsets.1) = newValue.stored }
    }
    @inlinable public var transport: HeaderPosition {
        get { HeaderPosition(kind: headerKinds.2, offset: headerOffsets.2) }
        set { (headerKinds.2, headerOffsets.2) = newValue.stored }
    }
    /// Of the bytes [data, tail) when 0 <= data <= tail <= end.
    @inlinable public var digest: UInt64? {
        get { hasDigest ? digestValue : nil }
        set {
            digestValue = newValue ?? 0
            hasDigest = newValue != nil
        }
    }

    /// Every byte is a field, so equality is equality of the bytes.
    @_alwaysEmitIntoClient
    public static func == (a: SKBState, b: SKBState) -> Bool {
        withUnsafeBytes(of: a) { x in withUnsafeBytes(of: b) { y in PlainBytes.equal(x, y) } }
    }

    /// The fields in which two states differ, one bit each in `table` order (bit k: table[k]), without
    /// going through the table's closures.
    @_alwaysEmitIntoClient
    public func differenceMask(_ o: SKBState) -> UInt32 {
        if self == o { return 0 }
        @inline(__always) func bit(_ differs: Bool, _ k: UInt32) -> UInt32 { differs ? 1 << k : 0 }
        return bit(data != o.data, 0) | bit(tail != o.tail, 1) | bit(end != o.end, 2) | bit(len != o.len, 3)
            | bit(dataLen != o.dataLen, 4) | bit(truesize != o.truesize, 5) | bit(headroom != o.headroom, 6)
            | bit(tailroom != o.tailroom, 7) | bit(users != o.users, 8) | bit(dataref != o.dataref, 9)
            | bit(cloned != o.cloned, 10) | bit(nohdr != o.nohdr, 11) | bit(fclone != o.fclone, 12)
            | bit(headerKinds.0 != o.headerKinds.0 || headerOffsets.0 != o.headerOffsets.0, 13)
            | bit(headerKinds.1 != o.headerKinds.1 || headerOffsets.1 != o.headerOffsets.1, 14)
            | bit(headerKinds.2 != o.headerKinds.2 || headerOffsets.2 != o.headerOffsets.2, 15)
            | bit(hasDigest != o.hasDigest || digestValue != o.digestValue, 16)
            | bit(csum != o.csum, 17) | bit(ipSummed != o.ipSummed, 18) | bit(hdrLen != o.hdrLen, 19)
            | bit(macLen != o.macLen, 20) | bit(nrFrags != o.nrFrags, 21) | bit(gsoSize != o.gsoSize, 22)
            | bit(gsoSegs != o.gsoSegs, 23) | bit(gsoType != o.gsoType, 24) | bit(ip6FragId != o.ip6FragId, 25)
            | bit(fragsDigest != o.fragsDigest, 26) | bit(packetDigest != o.packetDigest, 27)
    }

    /// Where this state has header k (0 mac, 1 network, 2 transport) at offset 0 and `other` has it
    /// unset, give `other` offset 0 too: OFF offset 0 and PTR NULL are the same never-set header.
    @_alwaysEmitIntoClient
    public func adoptingNeverSetHeaders(of other: SKBState) -> SKBState {
        var n = other
        if headerKinds.0 == 0 && headerOffsets.0 == 0 && n.headerKinds.0 == 1 { n.headerKinds.0 = 0 }
        if headerKinds.1 == 0 && headerOffsets.1 == 0 && n.headerKinds.1 == 1 { n.headerKinds.1 = 0 }
        if headerKinds.2 == 0 && headerOffsets.2 == 0 && n.headerKinds.2 == 1 { n.headerKinds.2 = 0 }
        return n
    }

    public func hash(into h: inout Hasher) {
        h.combine(data)
        h.combine(tail)
        h.combine(len)
        h.combine(digestValue)
    }

    /// The fields by name, in the order reports print them.
    public var fields: [(name: String, value: String)] { SKBState.table.map { ($0.name, $0.render(self)) } }

    public static var fieldNames: [String] { table.map(\.name) }

    /// One snapshot field: its name in reports and seed traces, how it prints, how two compare.
    public struct Field: Sendable {
        public let name: String
        public let render: @Sendable (SKBState) -> String
        public let differs: @Sendable (SKBState, SKBState) -> Bool
    }

    /// The fields in report order, declared once: printing and field-by-field comparison both use it.
    public static let table: [Field] = [
        Field(name: "data", render: { String($0.data) }, differs: { $0.data != $1.data }),
        Field(name: "tail", render: { String($0.tail) }, differs: { $0.tail != $1.tail }),
        Field(name: "end", render: { String($0.end) }, differs: { $0.end != $1.end }),
        Field(name: "len", render: { String($0.len) }, differs: { $0.len != $1.len }),
        Field(name: "data_len", render: { String($0.dataLen) }, differs: { $0.dataLen != $1.dataLen }),
        Field(name: "truesize", render: { String($0.truesize) }, differs: { $0.truesize != $1.truesize }),
        Field(name: "headroom", render: { String($0.headroom) }, differs: { $0.headroom != $1.headroom }),
        Field(name: "tailroom", render: { String($0.tailroom) }, differs: { $0.tailroom != $1.tailroom }),
        Field(name: "users", render: { String($0.users) }, differs: { $0.users != $1.users }),
        Field(name: "dataref", render: { "0x" + String($0.dataref, radix: 16) }, differs: { $0.dataref != $1.dataref }),
        Field(name: "cloned", render: { $0.cloned ? "1" : "0" }, differs: { $0.cloned != $1.cloned }),
        Field(name: "nohdr", render: { $0.nohdr ? "1" : "0" }, differs: { $0.nohdr != $1.nohdr }),
        Field(name: "fclone", render: { String($0.fclone.rawValue) }, differs: { $0.fclone != $1.fclone }),
        Field(name: "mac_header", render: { $0.mac.description }, differs: { $0.mac != $1.mac }),
        Field(name: "network_header", render: { $0.network.description }, differs: { $0.network != $1.network }),
        Field(name: "transport_header", render: { $0.transport.description }, differs: { $0.transport != $1.transport }),
        Field(name: "digest", render: { $0.digest.map { String($0, radix: 16) } ?? "none" }, differs: { $0.digest != $1.digest }),
        Field(name: "csum", render: { "0x" + String($0.csum, radix: 16) }, differs: { $0.csum != $1.csum }),
        Field(name: "ip_summed", render: { String($0.ipSummed) }, differs: { $0.ipSummed != $1.ipSummed }),
        Field(name: "hdr_len", render: { String($0.hdrLen) }, differs: { $0.hdrLen != $1.hdrLen }),
        Field(name: "mac_len", render: { String($0.macLen) }, differs: { $0.macLen != $1.macLen }),
        Field(name: "nr_frags", render: { String($0.nrFrags) }, differs: { $0.nrFrags != $1.nrFrags }),
        Field(name: "gso_size", render: { String($0.gsoSize) }, differs: { $0.gsoSize != $1.gsoSize }),
        Field(name: "gso_segs", render: { String($0.gsoSegs) }, differs: { $0.gsoSegs != $1.gsoSegs }),
        Field(name: "gso_type", render: { String($0.gsoType) }, differs: { $0.gsoType != $1.gsoType }),
        Field(name: "ip6_frag_id", render: { String($0.ip6FragId) }, differs: { $0.ip6FragId != $1.ip6FragId }),
        Field(name: "frags", render: { $0.fragsDigest == 0 ? "none" : String($0.fragsDigest, radix: 16) },
              differs: { $0.fragsDigest != $1.fragsDigest }),
        Field(name: "packet", render: { $0.packetDigest == 0 ? "none" : String($0.packetDigest, radix: 16) },
              differs: { $0.packetDigest != $1.packetDigest }),
    ]
}

/// Comparing values whose every byte is a field (no padding), such as SKBState.
public enum PlainBytes {
    /// The two buffers have the same bytes. Their counts must be equal multiples of 8.
    @_alwaysEmitIntoClient @inline(__always)
    public static func equal(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        precondition(x.count == y.count && x.count % 8 == 0)
        var d: UInt64 = 0
        var i = 0
        while i < x.count {
            d |= x.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ y.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        return d == 0
    }
}

/// The deterministic bytes skb_put and skb_push write, and the digest of [data, tail): the same
/// formulas as skbref_fill_pattern and skbref_digest in the C reference.
public enum PacketBytes {
    @inlinable @inline(__always)
    public static func pattern(_ pattern: UInt32, _ k: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: pattern &* 157 &+ UInt32(truncatingIfNeeded: k))
    }

    @usableFromInline static let k: UInt64 = 0x9E37_79B9_7F4A_7C15

    @inlinable @inline(__always)
    static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let m = (h ^ w) &* k
        return m ^ (m >> 32)
    }

    /// Four lanes so the multiplies overlap: word i (little endian, the last zero-padded) goes to
    /// lane i % 4; the lanes are folded and mixed once more (Specs/snapshot.md).
    @inlinable public static func digest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        let seed: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(n)
        var h0 = seed, h1 = seed ^ k, h2 = seed ^ (2 &* k), h3 = seed ^ (3 &* k)
        let words = n / 8
        var i = 0
        func word(_ i: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
        while i + 4 <= words {
            h0 = mix(h0, word(i))
            h1 = mix(h1, word(i + 1))
            h2 = mix(h2, word(i + 2))
            h3 = mix(h3, word(i + 3))
            i += 4
        }
        func fold(_ lane: Int, _ w: UInt64) {
            switch lane {
            case 0: h0 = mix(h0, w)
            case 1: h1 = mix(h1, w)
            case 2: h2 = mix(h2, w)
            default: h3 = mix(h3, w)
            }
        }
        while i < words {
            fold(i % 4, word(i))
            i += 1
        }
        if n % 8 != 0 {
            var w: UInt64 = 0
            for b in 0..<(n % 8) { w |= UInt64(bytes[8 * words + b]) << (8 * UInt64(b)) }
            fold(words % 4, w)
        }
        func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
        var r = h0 ^ rotl(h1, 17) ^ rotl(h2, 31) ^ rotl(h3, 47)
        r = (r ^ (r >> 29)) &* k
        return r ^ (r >> 32)
    }

    /// The PAGE_SIZE bytes of page `id` (Specs/paged.md): 256-byte chunks of the ramp, chunk j starting
    /// at (id * 167 + j * 89) mod 256, as skbref_fill_page in the C reference.
    /// Inlinable, and a block copy per chunk: SKBuff itself is built without optimisation in debug
    /// builds, where a loop per byte here cost the debug campaign most of its time.
    @inlinable public static func page(_ id: UInt32) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 4096) { bytes, count in
            ramp.withUnsafeBytes { r in
                for j in 0..<16 {
                    let phase = Int(UInt8(truncatingIfNeeded: id &* 167 &+ UInt32(j) &* 89))
                    UnsafeMutableRawPointer(bytes.baseAddress! + 256 * j).copyMemory(from: r.baseAddress! + phase, byteCount: 256)
                }
            }
            count = 4096
        }
    }

    /// 0, 1, ..., 255, 0, 1, ...: a pattern is a ramp, copied 256 bytes at a time.
    @usableFromInline static let ramp: [UInt8] = (0..<512).map { UInt8(truncatingIfNeeded: $0) }

    /// Write `count` pattern bytes at `to`: byte k is (pattern * 157 + k) mod 256.
    @inlinable public static func fill(_ to: UnsafeMutableRawBufferPointer, pattern: UInt32) {
        let start = Int(UInt8(truncatingIfNeeded: pattern &* 157))
        ramp.withUnsafeBytes { r in
            var k = 0
            while k < to.count {
                let chunk = min(256, to.count - k)
                UnsafeMutableRawBufferPointer(rebasing: to[k..<(k + chunk)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: r[((start + k) & 255)..<(((start + k) & 255) + chunk)]))
                k += chunk
            }
        }
    }
}
