/// A simulated kernel address: a pointer of the target's width, kept in 64 bits.
public typealias Address = UInt64

/// How the five sk_buff_data_t fields (transport/network/mac header, tail, end) are stored
/// (spec section 0). The helpers are written once against this protocol; the representation
/// differences of spec section 5 item 6 (wraps, comparisons) fall out of the stored type's arithmetic.
public protocol DataRepresentation: Sendable {
    associatedtype Stored: FixedWidthInteger & UnsignedInteger & Sendable
    static var kind: RepresentationKind { get }
    /// The value skb_mac_header_was_set() compares against: ~0U (OFF) or NULL (PTR).
    static var macUnset: Stored { get }
    /// skb_X_pointer(): head + field (OFF) or the field itself (PTR).
    static func pointer(_ v: Stored, head: Address, mask: Address) -> Address
    /// The field that stands for pointer p: p - head (OFF) or p (PTR), as skb_reset_X does.
    static func field(for p: Address, head: Address) -> Stored
    /// field += delta, the delta already widened from its C type (zero- or sign-extended).
    static func add(_ v: Stored, _ delta: Int64, mask: Address) -> Stored
    /// The snapshot offset of tail or end: skb_X_pointer(skb) - head as a signed pointer difference of
    /// the target's width (under OFF on x86_64 that is the stored unsigned int).
    static func offset(_ v: Stored, head: Address, arch: Arch) -> Int64
}

extension DataRepresentation {
    @inlinable public static var usesOffset: Bool { kind == .offset }
}

/// NET_SKBUFF_DATA_USES_OFFSET: sk_buff_data_t is `unsigned int`, wrapping at 2^32.
public enum OffsetRepresentation: DataRepresentation {
    public typealias Stored = UInt32
    @inlinable public static var kind: RepresentationKind { .offset }
    @inlinable public static var macUnset: UInt32 { ~0 }
    @inlinable @inline(__always) public static func pointer(_ v: UInt32, head: Address, mask: Address) -> Address { (head &+ Address(v)) & mask }
    @inlinable @inline(__always) public static func field(for p: Address, head: Address) -> UInt32 { UInt32(truncatingIfNeeded: p &- head) }
    @inlinable @inline(__always) public static func add(_ v: UInt32, _ delta: Int64, mask: Address) -> UInt32 { v &+ UInt32(truncatingIfNeeded: delta) }
    /// skb_X_pointer - head: on x86_64 the u32 itself; on i386 head + u32 wraps, so it is signed.
    @inlinable @inline(__always) public static func offset(_ v: UInt32, head: Address, arch: Arch) -> Int64 {
        arch.signedDifference(pointer(v, head: head, mask: arch.addressMask), head)
    }
}

/// sk_buff_data_t is `unsigned char *`: pointer arithmetic at the target's width.
public enum PointerRepresentation: DataRepresentation {
    public typealias Stored = UInt64
    @inlinable public static var kind: RepresentationKind { .pointer }
    @inlinable public static var macUnset: UInt64 { 0 }
    @inlinable @inline(__always) public static func pointer(_ v: UInt64, head: Address, mask: Address) -> Address { v }
    @inlinable @inline(__always) public static func field(for p: Address, head: Address) -> UInt64 { p }
    @inlinable @inline(__always) public static func add(_ v: UInt64, _ delta: Int64, mask: Address) -> UInt64 { (v &+ UInt64(bitPattern: delta)) & mask }
    @inlinable @inline(__always) public static func offset(_ v: UInt64, head: Address, arch: Arch) -> Int64 { arch.signedDifference(v, head) }
}
