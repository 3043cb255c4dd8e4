import CSKBuff
import SKBuff

/// The two host-side views of the compiled C reference, for the x86_64 targets on an x86_64 host
/// (the C reference models the host; spec Specs/snapshot.md, "Targets"):
/// - the descriptors `off_minimal_skbref_variant` ... `ptr_distro_skbref_variant`: the sizeof values
///   and field tables the C compiler produced;
/// - MemoryLayout of the structs Swift imports from CSKBuff.h (`off_minimal_sk_buff`, ...): ordinary
///   fields only, as a key path to an imported C bit-field crashes the compiler and the csum union's
///   members are not stored properties in Swift.
public enum CReferenceLayout {
    /// Whether this host runs the C reference as the given target.
    public static func covers(_ target: LayoutTarget) -> Bool {
        #if arch(x86_64)
        return target.arch == .x86_64
        #else
        return false
        #endif
    }

    static func descriptor(_ target: LayoutTarget) -> skbref_variant {
        let profile = Int32(ConfigProfile.allCases.firstIndex(of: target.config)!)
        return skbref_variant_for(target.representation == .offset ? 1 : 0, profile)!.pointee
    }

    /// The descriptor's view. Its alignment of skb_shared_info (the descriptor carries none) is the
    /// imported struct's, which is the C compiler's.
    public static func compiled(_ target: LayoutTarget) -> TargetLayout? {
        guard covers(target) else { return nil }
        let v = descriptor(target)
        func fields(_ table: UnsafePointer<skbref_field>, _ count: UInt32) -> [LayoutField] {
            UnsafeBufferPointer(start: table, count: Int(count)).map { f in
                LayoutField(name: String(cString: f.name), offset: Int(f.offset), size: Int(f.size),
                            bitOffset: Int(f.bit_offset), bitWidth: Int(f.bit_width))
            }
        }
        return TargetLayout(
            target: target,
            skBuff: StructLayout(size: Int(v.sizeof_sk_buff), align: Int(v.alignof_sk_buff),
                                 fields: fields(v.sk_buff_fields, v.sk_buff_field_count)),
            sharedInfo: StructLayout(size: Int(v.sizeof_skb_shared_info), align: MemoryLayout<skb_shared_info>.alignment,
                                     fields: fields(v.shinfo_fields, v.shinfo_field_count)),
            dataTSize: Int(v.sizeof_sk_buff_data_t))
    }

    /// MemoryLayout's view: the stored fields Swift imports. Not the bit-fields, and not csum,
    /// csum_start and csum_offset: Swift imports the members of an anonymous union as computed
    /// properties, and the union itself as an unavailable member.
    public static func imported(_ target: LayoutTarget) -> TargetLayout? {
        guard covers(target) else { return nil }
        let skBuff: StructLayout
        let dataT: Int
        switch (target.representation, target.config) {
        case (.offset, .minimal):
            skBuff = minimal(off_minimal_sk_buff.self)
            dataT = MemoryLayout<off_minimal_sk_buff_data_t>.size
        case (.pointer, .minimal):
            skBuff = minimal(ptr_minimal_sk_buff.self)
            dataT = MemoryLayout<ptr_minimal_sk_buff_data_t>.size
        case (.offset, .typical):
            skBuff = typical(off_typical_sk_buff.self)
            dataT = MemoryLayout<off_typical_sk_buff_data_t>.size
        case (.pointer, .typical):
            skBuff = typical(ptr_typical_sk_buff.self)
            dataT = MemoryLayout<ptr_typical_sk_buff_data_t>.size
        case (.offset, .distro):
            skBuff = distro(off_distro_sk_buff.self)
            dataT = MemoryLayout<off_distro_sk_buff_data_t>.size
        case (.pointer, .distro):
            skBuff = distro(ptr_distro_sk_buff.self)
            dataT = MemoryLayout<ptr_distro_sk_buff_data_t>.size
        }
        var shinfo = ImportedFields<skb_shared_info>()
        shinfo.add("dataref", \.dataref)
        shinfo.add("nr_frags", \.nr_frags)
        shinfo.add("gso_size", \.gso_size)
        shinfo.add("gso_segs", \.gso_segs)
        shinfo.add("gso_type", \.gso_type)
        shinfo.add("ip6_frag_id", \.ip6_frag_id)
        shinfo.add("frag_list", \.frag_list)
        shinfo.add("frags", \.frags)
        return TargetLayout(target: target, skBuff: skBuff, sharedInfo: shinfo.layout, dataTSize: dataT)
    }

    // One function per variant, as each is its own Swift type and a key path names its type.

    private static func minimal(_: off_minimal_sk_buff.Type) -> StructLayout {
        var f = ImportedFields<off_minimal_sk_buff>()
        f.add("next", \.next); f.add("prev", \.prev); f.add("sk", \.sk); f.add("tstamp", \.tstamp); f.add("dev", \.dev)
        f.add("dst", \.dst); f.add("sp", \.sp); f.add("cb", \.cb); f.add("len", \.len); f.add("data_len", \.data_len)
        f.add("mac_len", \.mac_len); f.add("hdr_len", \.hdr_len); f.add("priority", \.priority)
        f.add("protocol", \.protocol); f.add("destructor", \.destructor)
        f.add("iif", \.iif)
        f.add("mark", \.mark); f.add("transport_header", \.transport_header); f.add("network_header", \.network_header)
        f.add("mac_header", \.mac_header); f.add("tail", \.tail); f.add("end", \.end); f.add("head", \.head); f.add("data", \.data)
        f.add("truesize", \.truesize); f.add("users", \.users)
        return f.layout
    }

    private static func minimal(_: ptr_minimal_sk_buff.Type) -> StructLayout {
        var f = ImportedFields<ptr_minimal_sk_buff>()
        f.add("next", \.next); f.add("prev", \.prev); f.add("sk", \.sk); f.add("tstamp", \.tstamp); f.add("dev", \.dev)
        f.add("dst", \.dst); f.add("sp", \.sp); f.add("cb", \.cb); f.add("len", \.len); f.add("data_len", \.data_len)
        f.add("mac_len", \.mac_len); f.add("hdr_len", \.hdr_len); f.add("priority", \.priority)
        f.add("protocol", \.protocol); f.add("destructor", \.destructor)
        f.add("iif", \.iif)
        f.add("mark", \.mark); f.add("transport_header", \.transport_header); f.add("network_header", \.network_header)
        f.add("mac_header", \.mac_header); f.add("tail", \.tail); f.add("end", \.end); f.add("head", \.head); f.add("data", \.data)
        f.add("truesize", \.truesize); f.add("users", \.users)
        return f.layout
    }

    private static func typical(_: off_typical_sk_buff.Type) -> StructLayout {
        var f = ImportedFields<off_typical_sk_buff>()
        f.add("next", \.next); f.add("prev", \.prev); f.add("sk", \.sk); f.add("tstamp", \.tstamp); f.add("dev", \.dev)
        f.add("dst", \.dst); f.add("sp", \.sp); f.add("cb", \.cb); f.add("len", \.len); f.add("data_len", \.data_len)
        f.add("mac_len", \.mac_len); f.add("hdr_len", \.hdr_len); f.add("priority", \.priority)
        f.add("protocol", \.protocol); f.add("destructor", \.destructor)
        f.add("nf_bridge", \.nf_bridge); f.add("iif", \.iif); f.add("tc_index", \.tc_index); f.add("tc_verd", \.tc_verd)
        f.add("secmark", \.secmark)
        f.add("mark", \.mark); f.add("transport_header", \.transport_header); f.add("network_header", \.network_header)
        f.add("mac_header", \.mac_header); f.add("tail", \.tail); f.add("end", \.end); f.add("head", \.head); f.add("data", \.data)
        f.add("truesize", \.truesize); f.add("users", \.users)
        return f.layout
    }

    private static func typical(_: ptr_typical_sk_buff.Type) -> StructLayout {
        var f = ImportedFields<ptr_typical_sk_buff>()
        f.add("next", \.next); f.add("prev", \.prev); f.add("sk", \.sk); f.add("tstamp", \.tstamp); f.add("dev", \.dev)
        f.add("dst", \.dst); f.add("sp", \.sp); f.add("cb", \.cb); f.add("len", \.len); f.add("data_len", \.data_len)
        f.add("mac_len", \.mac_len); f.add("hdr_len", \.hdr_len); f.add("priority", \.priority)
        f.add("protocol", \.protocol); f.add("destructor", \.destructor)
        f.add("nf_bridge", \.nf_bridge); f.add("iif", \.iif); f.add("tc_index", \.tc_index); f.add("tc_verd", \.tc_verd)
        f.add("secmark", \.secmark)
        f.add("mark", \.mark); f.add("transport_header", \.transport_header); f.add("network_header", \.network_header)
        f.add("mac_header", \.mac_header); f.add("tail", \.tail); f.add("end", \.end); f.add("head", \.head); f.add("data", \.data)
        f.add("truesize", \.truesize); f.add("users", \.users)
        return f.layout
    }

    private static func distro(_: off_distro_sk_buff.Type) -> StructLayout {
        var f = ImportedFields<off_distro_sk_buff>()
        f.add("next", \.next); f.add("prev", \.prev); f.add("sk", \.sk); f.add("tstamp", \.tstamp); f.add("dev", \.dev)
        f.add("dst", \.dst); f.add("sp", \.sp); f.add("cb", \.cb); f.add("len", \.len); f.add("data_len", \.data_len)
        f.add("mac_len", \.mac_len); f.add("hdr_len", \.hdr_len); f.add("priority", \.priority)
        f.add("protocol", \.protocol); f.add("destructor", \.destructor)
        f.add("nfct", \.nfct); f.add("nfct_reasm", \.nfct_reasm); f.add("nf_bridge", \.nf_bridge); f.add("iif", \.iif)
        f.add("queue_mapping", \.queue_mapping); f.add("tc_index", \.tc_index); f.add("tc_verd", \.tc_verd)
        f.add("dma_cookie", \.dma_cookie); f.add("secmark", \.secmark)
        f.add("mark", \.mark); f.add("transport_header", \.transport_header); f.add("network_header", \.network_header)
        f.add("mac_header", \.mac_header); f.add("tail", \.tail); f.add("end", \.end); f.add("head", \.head); f.add("data", \.data)
        f.add("truesize", \.truesize); f.add("users", \.users)
        return f.layout
    }

    private static func distro(_: ptr_distro_sk_buff.Type) -> StructLayout {
        var f = ImportedFields<ptr_distro_sk_buff>()
        f.add("next", \.next); f.add("prev", \.prev); f.add("sk", \.sk); f.add("tstamp", \.tstamp); f.add("dev", \.dev)
        f.add("dst", \.dst); f.add("sp", \.sp); f.add("cb", \.cb); f.add("len", \.len); f.add("data_len", \.data_len)
        f.add("mac_len", \.mac_len); f.add("hdr_len", \.hdr_len); f.add("priority", \.priority)
        f.add("protocol", \.protocol); f.add("destructor", \.destructor)
        f.add("nfct", \.nfct); f.add("nfct_reasm", \.nfct_reasm); f.add("nf_bridge", \.nf_bridge); f.add("iif", \.iif)
        f.add("queue_mapping", \.queue_mapping); f.add("tc_index", \.tc_index); f.add("tc_verd", \.tc_verd)
        f.add("dma_cookie", \.dma_cookie); f.add("secmark", \.secmark)
        f.add("mark", \.mark); f.add("transport_header", \.transport_header); f.add("network_header", \.network_header)
        f.add("mac_header", \.mac_header); f.add("tail", \.tail); f.add("end", \.end); f.add("head", \.head); f.add("data", \.data)
        f.add("truesize", \.truesize); f.add("users", \.users)
        return f.layout
    }
}

/// MemoryLayout<T>.offset(of:) and the size of each stored field's type, in the order added.
struct ImportedFields<T> {
    private(set) var fields: [LayoutField] = []

    mutating func add<Value>(_ name: String, _ path: KeyPath<T, Value>) {
        // offset(of:) is nil only for a computed property: a field that is not stored where C put it.
        let offset = MemoryLayout<T>.offset(of: path) ?? -1
        fields.append(LayoutField(name: name, offset: offset, size: MemoryLayout<Value>.size, bitOffset: offset * 8, bitWidth: 0))
    }

    var layout: StructLayout { StructLayout(size: MemoryLayout<T>.size, align: MemoryLayout<T>.alignment, fields: fields) }
}
