/// A small C-ABI layout engine: the System V rules i386 and x86_64 Linux use, enough for
/// struct sk_buff and struct skb_shared_info. The model takes its sizeof values from here, and the
/// layout checker compares every field against libclang and the compiled C reference.
public indirect enum CType: Sendable {
    case char, u8, u16, u32, s32, s64
    case pointer
    case array(CType, Int)
    case record([CField])
    case union([CField])

    func size(_ arch: Arch) -> Int { layout(arch).size }
    func align(_ arch: Arch) -> Int { layout(arch).align }

    fileprivate func layout(_ arch: Arch) -> (size: Int, align: Int) {
        switch self {
        case .char, .u8: return (1, 1)
        case .u16: return (2, 2)
        case .u32, .s32: return (4, 4)
        // The i386 psABI aligns 8-byte integers to 4 inside structs; x86_64 to 8.
        case .s64: return (8, arch == .i386 ? 4 : 8)
        case .pointer: return (arch.pointerSize, arch.pointerSize)
        case let .array(element, count):
            let e = element.layout(arch)
            return (e.size * count, e.align)
        case let .record(fields):
            let l = StructLayout.compute(fields: fields, arch: arch, isUnion: false)
            return (l.size, l.align)
        case let .union(fields):
            let l = StructLayout.compute(fields: fields, arch: arch, isUnion: true)
            return (l.size, l.align)
        }
    }
}

/// One declared member. A nil name is an anonymous struct or union whose members are flattened.
public struct CField: Sendable {
    public var name: String?
    public var type: CType
    public var bitWidth: Int?

    public init(_ name: String?, _ type: CType, bits: Int? = nil) {
        self.name = name
        self.type = type
        self.bitWidth = bits
    }
}

/// A field as laid out: offsets in bytes, and in bits for bit-fields (size 0, as libclang reports
/// no byte size for them).
public struct LayoutField: Hashable, Sendable, Codable {
    public var name: String
    public var offset: Int
    public var size: Int
    public var bitOffset: Int
    public var bitWidth: Int

    public var isBitField: Bool { bitWidth > 0 }

    public init(name: String, offset: Int, size: Int, bitOffset: Int, bitWidth: Int) {
        self.name = name
        self.offset = offset
        self.size = size
        self.bitOffset = bitOffset
        self.bitWidth = bitWidth
    }
}

public struct StructLayout: Hashable, Sendable {
    public var size: Int
    public var align: Int
    public var fields: [LayoutField]

    public init(size: Int, align: Int, fields: [LayoutField]) {
        self.size = size
        self.align = align
        self.fields = fields
    }

    public func field(_ name: String) -> LayoutField? { fields.first { $0.name == name } }

    static func compute(fields: [CField], arch: Arch, isUnion: Bool) -> StructLayout {
        var bit = 0
        var maxAlign = 1
        var maxSize = 0
        var out: [LayoutField] = []
        for field in fields {
            let (size, align) = field.type.layout(arch)
            maxAlign = max(maxAlign, align)
            if let width = field.bitWidth {
                // A bit-field may not straddle a storage unit of its declared type.
                let unit = align * 8
                var start = isUnion ? 0 : bit
                if start / unit != (start + width - 1) / unit { start = roundUp(start, unit) }
                out.append(LayoutField(name: field.name ?? "", offset: start / 8, size: 0, bitOffset: start, bitWidth: width))
                if !isUnion { bit = start + width }
                maxSize = max(maxSize, roundUp(start + width, 8) / 8)
                continue
            }
            let offset = isUnion ? 0 : roundUp(roundUp(bit, 8) / 8, align)
            if let name = field.name {
                out.append(LayoutField(name: name, offset: offset, size: size, bitOffset: offset * 8, bitWidth: 0))
            } else {
                // Anonymous struct or union: its members are members of the enclosing struct.
                let inner: StructLayout
                switch field.type {
                case let .record(members): inner = compute(fields: members, arch: arch, isUnion: false)
                case let .union(members): inner = compute(fields: members, arch: arch, isUnion: true)
                default: preconditionFailure("only a struct or union can be anonymous")
                }
                for f in inner.fields {
                    out.append(LayoutField(name: f.name, offset: offset + f.offset, size: f.size,
                                           bitOffset: offset * 8 + f.bitOffset, bitWidth: f.bitWidth))
                }
            }
            if !isUnion { bit = (offset + size) * 8 }
            maxSize = max(maxSize, offset + size)
        }
        let end = isUnion ? maxSize : roundUp(bit, 8) / 8
        return StructLayout(size: roundUp(max(end, 0), maxAlign), align: maxAlign, fields: out)
    }
}

@inline(__always)
func roundUp(_ x: Int, _ to: Int) -> Int { (x + to - 1) / to * to }

/// The 2.6.24 declarations (spec section 7), written once as data; CReference/include/skbuff_struct.h
/// is the same list in C, and the layout checker proves the two agree.
public enum KernelStructs {
    static let ktime: CType = .union([CField("tv64", .s64)])
    /// ktime_t on 32-bit without CONFIG_KTIME_SCALAR also has a {s32 nsec, sec} view: same size.
    static func ktime(_ arch: Arch) -> CType {
        arch == .i386 ? .union([CField("tv64", .s64), CField("tv", .record([CField("nsec", .s32), CField("sec", .s32)]))]) : ktime
    }
    static let atomic: CType = .record([CField("counter", .s32)])

    public static func skBuffFields(arch: Arch, representation: RepresentationKind, config: ConfigProfile) -> [CField] {
        let dataT: CType = representation == .offset ? .u32 : .pointer
        var f: [CField] = [
            CField("next", .pointer), CField("prev", .pointer), CField("sk", .pointer),
            CField("tstamp", ktime(arch)), CField("dev", .pointer), CField("dst", .pointer), CField("sp", .pointer),
            CField("cb", .array(.char, 48)),
            CField("len", .u32), CField("data_len", .u32), CField("mac_len", .u16), CField("hdr_len", .u16),
            CField(nil, .union([CField("csum", .u32), CField(nil, .record([CField("csum_start", .u16), CField("csum_offset", .u16)]))])),
            CField("priority", .u32),
            CField("local_df", .u8, bits: 1), CField("cloned", .u8, bits: 1), CField("ip_summed", .u8, bits: 2),
            CField("nohdr", .u8, bits: 1), CField("nfctinfo", .u8, bits: 3),
            CField("pkt_type", .u8, bits: 3), CField("fclone", .u8, bits: 2), CField("ipvs_property", .u8, bits: 1),
            CField("nf_trace", .u8, bits: 1),
            CField("protocol", .u16),
            CField("destructor", .pointer),
        ]
        if config.has("NF_CONNTRACK") { f += [CField("nfct", .pointer), CField("nfct_reasm", .pointer)] }
        if config.has("BRIDGE_NETFILTER") { f.append(CField("nf_bridge", .pointer)) }
        f.append(CField("iif", .s32))
        if config.has("NETDEVICES_MULTIQUEUE") { f.append(CField("queue_mapping", .u16)) }
        if config.has("NET_SCHED") {
            f.append(CField("tc_index", .u16))
            if config.has("NET_CLS_ACT") { f.append(CField("tc_verd", .u16)) }
        }
        if config.has("NET_DMA") { f.append(CField("dma_cookie", .s32)) }
        if config.has("NETWORK_SECMARK") { f.append(CField("secmark", .u32)) }
        f += [
            CField("mark", .u32),
            CField("transport_header", dataT), CField("network_header", dataT), CField("mac_header", dataT),
            CField("tail", dataT), CField("end", dataT),
            CField("head", .pointer), CField("data", .pointer),
            CField("truesize", .u32), CField("users", atomic),
        ]
        return f
    }

    public static let sharedInfoFields: [CField] = [
        CField("dataref", atomic), CField("nr_frags", .u16), CField("gso_size", .u16), CField("gso_segs", .u16),
        CField("gso_type", .u16), CField("ip6_frag_id", .u32), CField("frag_list", .pointer),
        CField("frags", .array(.record([CField("page", .pointer), CField("page_offset", .u32), CField("size", .u32)]), 18)),
    ]

    public static func skBuff(arch: Arch, representation: RepresentationKind, config: ConfigProfile) -> StructLayout {
        StructLayout.compute(fields: skBuffFields(arch: arch, representation: representation, config: config), arch: arch, isUnion: false)
    }

    public static func sharedInfo(arch: Arch) -> StructLayout {
        StructLayout.compute(fields: sharedInfoFields, arch: arch, isUnion: false)
    }
}

/// The three sizes a run's truesize, kmalloc requests and snapshots depend on.
public struct Sizing: Hashable, Sendable {
    public var skBuff: UInt32
    public var sharedInfo: UInt32
    public var dataT: UInt32

    public init(skBuff: UInt32, sharedInfo: UInt32, dataT: UInt32) {
        self.skBuff = skBuff
        self.sharedInfo = sharedInfo
        self.dataT = dataT
    }

    public init(target: Target, representation: RepresentationKind) {
        let skb = KernelStructs.skBuff(arch: target.arch, representation: representation, config: target.config)
        self.init(skBuff: UInt32(skb.size), sharedInfo: UInt32(KernelStructs.sharedInfo(arch: target.arch).size),
                  dataT: representation == .offset ? 4 : UInt32(target.arch.pointerSize))
    }
}
