/// The machine a run models: the architecture, the kernel's CONFIG profile and SMP_CACHE_BYTES.
public struct Target: Hashable, Sendable, CustomStringConvertible {
    public var arch: Arch
    public var config: ConfigProfile
    /// SMP_CACHE_BYTES = L1_CACHE_BYTES: 128 in both 2.6.24 defconfigs (spec section 1).
    public var cacheLine: UInt32

    public static let allowedCacheLines: [UInt32] = [16, 32, 64, 128]

    public init(arch: Arch = .x86_64, config: ConfigProfile = .minimal, cacheLine: UInt32 = 128) {
        precondition(Target.allowedCacheLines.contains(cacheLine), "SMP_CACHE_BYTES must be 16, 32, 64 or 128")
        self.arch = arch
        self.config = config
        self.cacheLine = cacheLine
    }

    public var description: String { "\(arch.rawValue)/\(config.rawValue)/\(cacheLine)" }

    /// Every target: both architectures, the three CONFIG profiles, the four cache lines, in that order.
    public static let all: [Target] = Arch.allCases.flatMap { arch in
        ConfigProfile.allCases.flatMap { config in allowedCacheLines.map { Target(arch: arch, config: config, cacheLine: $0) } }
    }

    /// This target's place in `all`.
    public var index: Int {
        (Arch.allCases.firstIndex(of: arch)! * ConfigProfile.allCases.count + ConfigProfile.allCases.firstIndex(of: config)!)
            * Target.allowedCacheLines.count + Target.allowedCacheLines.firstIndex(of: cacheLine)!
    }
}

public enum Arch: String, CaseIterable, Hashable, Sendable {
    case i386
    case x86_64

    @inlinable public var pointerSize: Int { self == .i386 ? 4 : 8 }
    /// Pointers, size_t and long wrap at this mask.
    @inlinable public var addressMask: UInt64 { self == .i386 ? 0xFFFF_FFFF : UInt64.max }
    /// PAGE_OFFSET: where the simulated kernel allocations start (Specs/snapshot.md).
    @inlinable public var pageOffset: UInt64 { self == .i386 ? 0xC000_0000 : 0xFFFF_8100_0000_0000 }
    /// The clang target triple the layout checker parses for.
    public var triple: String { "\(rawValue)-unknown-linux-gnu" }

    /// A pointer (or long, size_t) difference as the signed value C would see on this arch.
    @inlinable @inline(__always)
    public func signedDifference(_ a: UInt64, _ b: UInt64) -> Int64 {
        self == .i386 ? Int64(Int32(truncatingIfNeeded: a &- b)) : Int64(bitPattern: a &- b)
    }
}

/// The CONFIG_ profiles the project models (Specs/snapshot.md, "Targets").
public enum ConfigProfile: String, CaseIterable, Hashable, Sendable {
    case minimal
    case typical
    case distro

    /// The CONFIG_ options the profile sets, without the CONFIG_ prefix.
    public var options: [String] {
        let typical = ["NETFILTER", "BRIDGE_NETFILTER", "NET_SCHED", "NET_CLS_ACT", "NETWORK_SECMARK"]
        switch self {
        case .minimal: return []
        case .typical: return typical
        case .distro: return typical + ["NF_CONNTRACK", "NETDEVICES_MULTIQUEUE", "NET_DMA", "XFRM"]
        }
    }

    public func has(_ option: String) -> Bool { options.contains(option) }
}

/// How sk_buff_data_t is stored (spec section 0).
public enum RepresentationKind: String, CaseIterable, Hashable, Sendable {
    /// NET_SKBUFF_DATA_USES_OFFSET: `unsigned int` offsets from head (every 64-bit kernel).
    case offset
    /// `unsigned char *` pointers (every 32-bit kernel).
    case pointer

    public var short: String { self == .offset ? "OFF" : "PTR" }
}
