import SKBuff

/// An integer parameter's C type: arguments are converted to it before the call.
public enum ArgumentKind: Sendable {
    case u32
    case s32

    public var range: ClosedRange<Int64> { self == .u32 ? 0...Int64(UInt32.max) : Int64(Int32.min)...Int64(Int32.max) }
    public var cName: String { self == .u32 ? "unsigned int" : "int" }
}

/// What a helper returns, and so how its outcome is read.
public enum Returns: Sendable {
    case void
    case int
    /// 0 or a negative errno.
    case errno
    /// A pointer into the target's buffer (reported as an offset from head) or NULL.
    case pointer
    /// An sk_buff (a new pool reference) or NULL.
    case skb
}

/// How a call changes the pool of references (Specs/snapshot.md, "The pool").
public enum PoolEffect: Sendable {
    case none
    /// Creates the next reference (NULL leaves it empty).
    case produces
    /// Ends the target reference.
    case consumes
    /// Ends the target reference when the helper fails (it freed the skb).
    case consumesOnFailure
    /// Moves the target reference to the returned sk_buff.
    case replaces
}

/// One entry of the catalogue: everything the generator, the executors, the seed-file parser and
/// the help text need to know about a helper.
public struct OperationInfo: Sendable {
    public let name: String
    public let takesTarget: Bool
    public let arguments: [(name: String, kind: ArgumentKind)]
    public let returns: Returns
    public let effect: PoolEffect
    public let summary: String
}

/// The catalogue of helpers, declared once. The raw values are the C reference's enum skbref_op
/// (bound by name at start-up, see CImplementation).
public enum Operation: Int, CaseIterable, Sendable, Hashable {
    case alloc_skb, alloc_skb_fclone, dev_alloc_skb, alloc_skb_from_cache
    case skb_reserve, skb_put, __skb_put, skb_push, __skb_push, skb_pull, __skb_pull, skb_trim, __skb_trim
    case skb_headroom, skb_tailroom
    case skb_clone, skb_copy, pskb_copy, pskb_expand_head, skb_realloc_headroom, skb_copy_expand
    case skb_cow, skb_cow_head, skb_pad, skb_padto, skb_unshare, skb_share_check, skb_get, kfree_skb
    case skb_header_release, skb_cloned, skb_header_cloned, skb_shared
    case skb_reset_mac_header, skb_reset_network_header, skb_reset_transport_header
    case skb_set_mac_header, skb_set_network_header, skb_set_transport_header
    case skb_mac_header_was_set, skb_reset_tail_pointer, skb_set_tail_pointer, skb_tail_pointer, skb_end_pointer
    // Paged data (Specs/paged.md).
    case skb_is_nonlinear, skb_headlen, skb_pagelen, pskb_may_pull, __pskb_pull_tail, pskb_pull, pskb_trim
    case skb_linearize, skb_copy_bits
    // Not helpers: fields drivers and the stack write directly, and a driver adding a page.
    case set_csum, set_mac_len, set_gso, set_gso_type, set_ip6_frag_id, add_frag
    // Not a helper: allocation-failure injection.
    case fail_next_alloc

    public var name: String { info.name }

    public static let byName: [String: Operation] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })

    public var info: OperationInfo { Operation.table[rawValue] }

    // The flags the hot path reads, kept flat: `info` copies strings and arrays. The two read
    // several times per call are switches: a table is a lazy global, and its swift_once on every read
    // cost 1.5% of a campaign. The catalogue below stays the truth; a test holds them to it.
    public var takesTarget: Bool {
        switch self {
        case .alloc_skb, .alloc_skb_fclone, .dev_alloc_skb, .alloc_skb_from_cache, .fail_next_alloc: return false
        default: return true
        }
    }
    public var effect: PoolEffect {
        switch self {
        case .alloc_skb, .alloc_skb_fclone, .dev_alloc_skb, .alloc_skb_from_cache, .skb_clone, .skb_copy, .pskb_copy,
             .skb_realloc_headroom, .skb_copy_expand, .skb_get:
            return .produces
        case .skb_pad, .skb_padto: return .consumesOnFailure
        case .skb_unshare, .skb_share_check: return .replaces
        case .kfree_skb: return .consumes
        default: return .none
        }
    }
    public var returns: Returns { Operation.returnsTable[rawValue] }
    public var argumentCount: Int { Operation.argumentCountTable[rawValue] }
    private static let returnsTable = table.map(\.returns)
    private static let argumentCountTable = table.map(\.arguments.count)

    private static func op(_ name: String, target: Bool = true, _ args: [(String, ArgumentKind)] = [], _ returns: Returns,
                           _ effect: PoolEffect = .none, _ summary: String) -> OperationInfo {
        OperationInfo(name: name, takesTarget: target, arguments: args.map { (name: $0.0, kind: $0.1) },
                      returns: returns, effect: effect, summary: summary)
    }

    private static let table: [OperationInfo] = [
        op("alloc_skb", target: false, [("size", .u32)], .skb, .produces, "new skb, end = SKB_DATA_ALIGN(size)"),
        op("alloc_skb_fclone", target: false, [("size", .u32)], .skb, .produces, "new skb from the fclone cache, with a companion for skb_clone"),
        op("dev_alloc_skb", target: false, [("length", .u32)], .skb, .produces, "alloc_skb(length + 16) then skb_reserve(16)"),
        op("alloc_skb_from_cache", target: false, [("object_size", .u32), ("size", .u32)], .skb, .produces,
           "2.6.18: data from a cache of object_size-byte objects (4096: Xen), no size check"),
        op("skb_reserve", [("len", .s32)], .void, .none, "data += len, tail += len; no check"),
        op("skb_put", [("len", .u32)], .pointer, .none, "tail += len, len += len; panic over if tail > end (after the update)"),
        op("__skb_put", [("len", .u32)], .pointer, .none, "skb_put without the check"),
        op("skb_push", [("len", .u32)], .pointer, .none, "data -= len, len += len; panic under if data < head"),
        op("__skb_push", [("len", .u32)], .pointer, .none, "skb_push without the check"),
        op("skb_pull", [("len", .u32)], .pointer, .none, "NULL if len > skb->len, else __skb_pull"),
        op("__skb_pull", [("len", .u32)], .pointer, .none, "len -= len (wraps), data += len"),
        op("skb_trim", [("len", .u32)], .void, .none, "__skb_trim if skb->len > len"),
        op("__skb_trim", [("len", .u32)], .void, .none, "len = len, tail = data + len"),
        op("skb_headroom", [], .int, .none, "data - head"),
        op("skb_tailroom", [], .int, .none, "end - tail"),
        op("skb_clone", [], .skb, .produces, "new head sharing the data (the fclone companion when free)"),
        op("skb_copy", [], .skb, .produces, "linear copy, headroom bytes included"),
        op("pskb_copy", [], .skb, .produces, "copy of the linear part; headroom bytes not copied"),
        op("pskb_expand_head", [("nhead", .s32), ("ntail", .s32)], .errno, .none,
           "reallocate with nhead more headroom and ntail more tailroom; BUG if shared"),
        op("skb_realloc_headroom", [("headroom", .u32)], .skb, .produces, "copy or expanded clone with at least headroom"),
        op("skb_copy_expand", [("newheadroom", .s32), ("newtailroom", .s32)], .skb, .produces, "copy with new head- and tailroom"),
        op("skb_cow", [("headroom", .u32)], .errno, .none, "expand when short of headroom or cloned"),
        op("skb_cow_head", [("headroom", .u32)], .errno, .none, "expand when short of headroom or the header is cloned"),
        op("skb_pad", [("pad", .s32)], .errno, .consumesOnFailure, "zero pad bytes past the data; frees the skb on failure"),
        op("skb_padto", [("len", .u32)], .errno, .consumesOnFailure, "skb_pad up to len bytes"),
        op("skb_unshare", [], .skb, .replaces, "skb_copy if cloned, dropping the original"),
        op("skb_share_check", [], .skb, .replaces, "skb_clone if shared, dropping our reference"),
        op("skb_get", [], .skb, .produces, "users++: a second reference"),
        op("kfree_skb", [], .void, .consumes, "drop a reference; free at the last"),
        op("skb_header_release", [], .void, .none, "nohdr = 1, dataref += 1 << 16; BUG if nohdr"),
        op("skb_cloned", [], .int, .none, "cloned && (dataref & 0xFFFF) != 1"),
        op("skb_header_cloned", [], .int, .none, "cloned && (dataref & 0xFFFF) - (dataref >> 16) != 1"),
        op("skb_shared", [], .int, .none, "users != 1"),
        op("skb_reset_mac_header", [], .void, .none, "mac_header = data"),
        op("skb_reset_network_header", [], .void, .none, "network_header = data"),
        op("skb_reset_transport_header", [], .void, .none, "transport_header = data"),
        op("skb_set_mac_header", [("offset", .s32)], .void, .none, "mac_header = data + offset"),
        op("skb_set_network_header", [("offset", .s32)], .void, .none, "network_header = data + offset"),
        op("skb_set_transport_header", [("offset", .s32)], .void, .none, "transport_header = data + offset"),
        op("skb_mac_header_was_set", [], .int, .none, "mac_header != ~0U (OFF) / != NULL (PTR)"),
        op("skb_reset_tail_pointer", [], .void, .none, "tail = data"),
        op("skb_set_tail_pointer", [("offset", .s32)], .void, .none, "tail = data + offset"),
        op("skb_tail_pointer", [], .pointer, .none, "the tail pointer"),
        op("skb_end_pointer", [], .pointer, .none, "the end pointer (skb_shinfo)"),
        op("skb_is_nonlinear", [], .int, .none, "data_len (as an int)"),
        op("skb_headlen", [], .int, .none, "len - data_len: the bytes in the head"),
        op("skb_pagelen", [], .int, .none, "headlen plus the frags' sizes"),
        op("pskb_may_pull", [("len", .u32)], .int, .none, "1 if len bytes are (or can be pulled) into the head"),
        op("__pskb_pull_tail", [("delta", .s32)], .pointer, .none,
           "pull delta bytes from the frags into the head (expanding it); NULL if it cannot"),
        op("pskb_pull", [("len", .u32)], .pointer, .none, "skb_pull that first pulls what the head lacks"),
        op("pskb_trim", [("len", .u32)], .errno, .none, "trim to len, cutting and dropping frags"),
        op("skb_linearize", [], .errno, .none, "pull every frag into the head"),
        op("skb_copy_bits", [("offset", .s32), ("len", .s32)], .errno, .none,
           "copy len packet bytes from offset into a caller's buffer; ok: their digest >> 2"),
        op("set_csum", [("csum", .u32), ("ip_summed", .u32)], .void, .none,
           "driver: csum union = csum, ip_summed = ip_summed & 3 (a 2-bit field)"),
        op("set_mac_len", [("mac_len", .u32)], .void, .none, "netif_receive_skb: mac_len = mac_len (16 bits)"),
        op("set_gso", [("gso_size", .u32), ("gso_segs", .u32)], .void, .none,
           "driver: skb_shinfo(skb)->gso_size, gso_segs (16 bits each)"),
        op("set_gso_type", [("gso_type", .u32)], .void, .none, "driver: skb_shinfo(skb)->gso_type (16 bits)"),
        op("set_ip6_frag_id", [("ip6_frag_id", .u32)], .void, .none, "IPv6 fragmentation: skb_shinfo(skb)->ip6_frag_id"),
        op("add_frag", [("offset", .u32), ("size", .u32)], .errno, .none,
           "driver: a fresh page's [offset, offset + size) as frags[nr_frags]; len, data_len, truesize += size"),
        op("fail_next_alloc", target: false, [("n", .u32)], .void, .none,
           "harness: the n-th kmalloc/kmem_cache_alloc of the next call fails (1: its first; 0: none)"),
    ]
}

/// One call of a sequence: a helper, its target reference and its arguments (already in range of
/// their C types). At most two arguments, stored inline so a call costs no allocation.
public struct Call: Hashable, Sendable {
    public var op: Operation
    /// The pool reference the call acts on (-1 for the allocators).
    public var target: Int
    public var arg0: Int64
    public var arg1: Int64

    /// A call without building an argument array (the generator's path).
    public init(_ op: Operation, target: Int, arg0: Int64, arg1: Int64) {
        self.op = op
        self.target = target
        self.arg0 = arg0
        self.arg1 = arg1
    }

    public init(_ op: Operation, target: Int = -1, _ args: [Int64] = []) {
        precondition(args.count == op.argumentCount, "\(op.name) takes \(op.argumentCount) arguments")
        self.op = op
        self.target = target
        self.arg0 = args.count > 0 ? args[0] : 0
        self.arg1 = args.count > 1 ? args[1] : 0
    }

    public var args: [Int64] {
        get { Array([arg0, arg1].prefix(op.argumentCount)) }
        set {
            arg0 = newValue.count > 0 ? newValue[0] : 0
            arg1 = newValue.count > 1 ? newValue[1] : 0
        }
    }

    @inline(__always) func u32(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: i == 0 ? arg0 : arg1) }
    @inline(__always) func s32(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: i == 0 ? arg0 : arg1) }
}
