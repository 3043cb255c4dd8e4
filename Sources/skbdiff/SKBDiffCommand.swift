import ArgumentParser
import Foundation
import SKBDiff
import SKBuff

@main
struct SKBDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skbdiff",
        abstract: "Differential fuzzer and layout checker for a model of the Linux 2.6.24 sk_buff.",
        discussion: """
        Four implementations of the 2.6.24 socket-buffer helpers run the same random operation \
        sequences: the Swift model and the C reference, each with sk_buff_data_t as an unsigned int \
        offset (OFF, 64-bit kernels) and as a pointer (PTR, 32-bit kernels). After every operation \
        their snapshots (data/tail/end offsets, len, truesize, users, dataref, headers, packet bytes) \
        are compared. Swift against C is fidelity; OFF against PTR may differ only where the kernel's \
        own quirks say so (Specs/quirks.txt). A failing sequence is shrunk and saved as a .skb seed \
        file that 'skbdiff replay' reproduces.

        Examples:
          skbdiff --iterations 1000000     fuzz (the default subcommand)
          skbdiff --seed 0x2a --json       reproducible, machine-readable
          skbdiff replay Specs/seeds       replay the regression corpus
          skbdiff findings DIR             a findings folder, one line per cause
          skbdiff merge shard-*.json       add up the --json summaries of --shard runs
          skbdiff mutants                  plant each catalogued fault: does the fuzzer or the corpus catch it?
          skbdiff layout                   check the layouts with libclang
          skbdiff ops                      list the helpers and arguments

        Exit codes: 0 everything agreed, 1 a divergence was found, 2 bad usage or bad input, 130 or \
        143 the campaign was interrupted by SIGINT or SIGTERM (its summary so far is printed).
        """,
        subcommands: [FuzzCommand.self, ReplayCommand.self, FindingsCommand.self, MergeCommand.self, MutantsCommand.self, BenchCommand.self, LayoutCommand.self, OpsCommand.self],
        defaultSubcommand: FuzzCommand.self
    )

    /// Bad usage is exit 2, as the interface promises (ArgumentParser's own default is 64).
    static func main() {
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Foundation.exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            // 128 + N: stopped by signal N (an interrupted campaign); anything else not 1 is bad usage.
            Foundation.exit(code.rawValue > 128 ? code.rawValue : code == .failure || code.rawValue == 1 ? 1 : 2)
        }
    }
}

/// The run's target, shared by the commands that take one.
struct TargetOptions: ParsableArguments {
    @Option(help: "Architecture whose sizes and pointer width are modelled: i386 or x86_64. On i386 the C reference runs in a 32-bit worker process that skbdiff builds with the toolchain's clang on first use.")
    var arch: Arch = .x86_64

    @Option(help: "CONFIG profile: minimal (no options), typical (NETFILTER, BRIDGE_NETFILTER, NET_SCHED, NET_CLS_ACT, NETWORK_SECMARK) or distro (typical plus NF_CONNTRACK, NETDEVICES_MULTIQUEUE, NET_DMA, XFRM).")
    var config: ConfigProfile = .minimal

    @Option(name: .customLong("cache-line"), help: "SMP_CACHE_BYTES: 16, 32, 64 or 128 (both 2.6.24 defconfigs: 128).")
    var cacheLine: UInt32 = 128

    func validate() throws {
        guard Target.allowedCacheLines.contains(cacheLine) else {
            throw ValidationError("--cache-line expected 16, 32, 64 or 128, found \(cacheLine)")
        }
    }

    var target: Target { Target(arch: arch, config: config, cacheLine: cacheLine) }
}

/// The targets a campaign draws from: each option pins one dimension; left out, every value of it
/// is drawn (per block of 512 iterations, from the seed), so a plain campaign covers all 24 targets.
struct TargetSpaceOptions: ParsableArguments {
    @Option(help: "Pin the architecture, i386 or x86_64 (default: both). On i386 the C reference runs in a 32-bit worker process (built with the toolchain's clang on first use; without it, said once, Swift OFF against Swift PTR only).")
    var arch: Arch?

    @Option(help: "Pin the CONFIG profile: minimal (no options), typical (NETFILTER, BRIDGE_NETFILTER, NET_SCHED, NET_CLS_ACT, NETWORK_SECMARK) or distro (typical plus NF_CONNTRACK, NETDEVICES_MULTIQUEUE, NET_DMA, XFRM) (default: all three).")
    var config: ConfigProfile?

    @Option(name: .customLong("cache-line"), help: "Pin SMP_CACHE_BYTES: 16, 32, 64 or 128 (default: all four; both 2.6.24 defconfigs have 128).")
    var cacheLine: UInt32?

    func validate() throws {
        if let cacheLine, !Target.allowedCacheLines.contains(cacheLine) {
            throw ValidationError("--cache-line expected 16, 32, 64 or 128, found \(cacheLine)")
        }
    }

    var space: TargetSpace { TargetSpace(arch: arch, config: config, cacheLine: cacheLine) }
}

// The target enums are their own command-line values (their raw values: i386, offset, distro, ...).
extension Arch: ExpressibleByArgument {}
extension ConfigProfile: ExpressibleByArgument {}
extension RepresentationKind: ExpressibleByArgument {}

/// Write to standard error.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
}

/// Parse decimal or 0x-hex.
func parseUInt64(_ s: String) -> UInt64? {
    if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
    return UInt64(s)
}
