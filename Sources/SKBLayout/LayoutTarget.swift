import SKBuff

/// One (arch, representation, CONFIG profile): what the header is parsed for and what one
/// expectation file describes. Every layout value is keyed by one of these, never by the host.
public struct LayoutTarget: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var arch: Arch
    public var representation: RepresentationKind
    public var config: ConfigProfile

    public init(arch: Arch, representation: RepresentationKind, config: ConfigProfile) {
        self.arch = arch
        self.representation = representation
        self.config = config
    }

    /// The 12 targets, arch-major, then OFF before PTR, then the profiles from small to large.
    public static let all: [LayoutTarget] = Arch.allCases.flatMap { arch in
        RepresentationKind.allCases.flatMap { representation in
            ConfigProfile.allCases.map { LayoutTarget(arch: arch, representation: representation, config: $0) }
        }
    }

    /// The targets the narrowing options leave (nil: any).
    public static func selected(arch: Arch? = nil, representation: RepresentationKind? = nil, config: ConfigProfile? = nil) -> [LayoutTarget] {
        all.filter { t in
            (arch == nil || t.arch == arch) && (representation == nil || t.representation == representation) && (config == nil || t.config == config)
        }
    }

    /// "x86_64-offset-minimal": the expectation file's name without ".txt".
    public var name: String { "\(arch.rawValue)-\(representation.rawValue)-\(config.rawValue)" }

    /// "x86_64 OFF minimal".
    public var description: String { "\(arch.rawValue) \(representation.short) \(config.rawValue)" }

    /// What the profile's -D options are, for headings: "NF_CONNTRACK, ..." or "no options".
    public var configSummary: String { config.options.isEmpty ? "no CONFIG_ options" : config.options.map { "CONFIG_\($0)" }.joined(separator: " ") }

    /// The clang arguments that make CSKBuff.h declare this target's plain struct sk_buff.
    /// -ffreestanding and -nostdlibinc: clang's own stddef.h/stdint.h, never the host's libc headers
    /// (a fresh machine has no i386 ones, and this machine must see what a fresh one sees).
    public func clangArguments(includeDirectory: String) -> [String] {
        var args = ["-x", "c", "-std=gnu11", "-target", arch.triple, "-ffreestanding", "-nostdlibinc",
                    "-I", includeDirectory, "-DSKBREF_LAYOUT_SINGLE"]
        if representation == .offset { args.append("-DNET_SKBUFF_DATA_USES_OFFSET") }
        args += config.options.map { "-DCONFIG_\($0)" }
        return args
    }

    public static func < (a: LayoutTarget, b: LayoutTarget) -> Bool {
        all.firstIndex(of: a)! < all.firstIndex(of: b)!
    }
}

/// The two structs the check reads.
public enum LayoutStructKind: String, CaseIterable, Sendable, Codable {
    case skBuff = "sk_buff"
    case sharedInfo = "skb_shared_info"
}

/// What one source says about one target: both structs and sizeof(sk_buff_data_t).
public struct TargetLayout: Hashable, Sendable {
    public var target: LayoutTarget
    public var skBuff: StructLayout
    public var sharedInfo: StructLayout
    public var dataTSize: Int

    public init(target: LayoutTarget, skBuff: StructLayout, sharedInfo: StructLayout, dataTSize: Int) {
        self.target = target
        self.skBuff = skBuff
        self.sharedInfo = sharedInfo
        self.dataTSize = dataTSize
    }

    public subscript(kind: LayoutStructKind) -> StructLayout {
        switch kind {
        case .skBuff: return skBuff
        case .sharedInfo: return sharedInfo
        }
    }

    /// The Swift model's own layout engine (Sources/SKBuff/Layout.swift).
    public static func swiftModel(_ target: LayoutTarget) -> TargetLayout {
        TargetLayout(target: target,
                     skBuff: KernelStructs.skBuff(arch: target.arch, representation: target.representation, config: target.config),
                     sharedInfo: KernelStructs.sharedInfo(arch: target.arch),
                     dataTSize: Int(Sizing(target: Target(arch: target.arch, config: target.config), representation: target.representation).dataT))
    }
}
