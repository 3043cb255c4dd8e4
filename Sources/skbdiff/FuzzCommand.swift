import ArgumentParser
import CSKBuff
import Foundation
import SKBDiff
import SKBuff

struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Run random operation sequences on every implementation and compare them (the default).",
        discussion: """
        Iteration i is generated from (seed, i) alone, so the same --seed gives the same sequences, \
        counts and findings whatever --jobs is, and --shard K/N splits one campaign across machines. \
        Each failing sequence is shrunk to a 1-minimal one and written to --out as a .skb seed file \
        before the process exits; 'skbdiff replay FILE' reproduces it. With --json, shards' \
        summaries add up with 'skbdiff merge'.
        """
    )

    @Option(help: "Number of random sequences to run.")
    var iterations: UInt64 = 100_000

    @Option(help: "Generator seed, decimal or 0x-hex (default: random, always printed).")
    var seed: String?

    @Option(name: .customLong("max-ops"), help: "Operations per sequence at most (each sequence has 1 to max-ops).")
    var maxOps: Int = 32

    @Option(help: "Worker threads (one per core unless given).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Run only the K-th of N disjoint slices of the iteration space, as K/N (1-based).")
    var shard: String = "1/1"

    @OptionGroup var targetOptions: TargetSpaceOptions

    @OptionGroup var kernel: KernelTreeOptions

    @OptionGroup var external: ExternalOptions

    @OptionGroup var operations: OperationsOption

    @Option(help: "Directory for findings (.skb seed files).")
    var out: String = "./skbdiff-findings"

    @Option(name: .customLong("max-divergences"), help: "Stop after this many divergent sequences.")
    var maxDivergences: Int = 20

    @Option(help: """
        What is compared after each call: touched (the references the call can have changed, then \
        every reference at the end of the sequence; a mismatch re-runs the sequence with full) or \
        full (every reference after every call, as replay does; slower, same findings).
        """)
    var compare: Differential.Comparison = .touched

    @Option(help: "Plant a catalogued fault, as ID/SIDE (e.g. put-ge/c; Specs/mutants.txt), to watch the fuzzer find it.")
    var mutant: String?

    @Flag(inversion: .prefixedNo, help: "End each sequence by freeing every live reference and checking that nothing stays allocated.")
    var leakCheck = true

    @Flag(help: "Print nothing but findings and errors.")
    var quiet = false

    @Flag(help: "Print one JSON object on stdout instead of the summary.")
    var json = false

    func validate() throws {
        if let seed, parseUInt64(seed) == nil { throw ValidationError("--seed expected a decimal or 0x-hex number, found '\(seed)'") }
        guard maxOps >= 1 else { throw ValidationError("--max-ops expected at least 1, found \(maxOps)") }
        guard jobs >= 1 else { throw ValidationError("--jobs expected at least 1, found \(jobs)") }
        guard maxDivergences >= 1 else { throw ValidationError("--max-divergences expected at least 1, found \(maxDivergences)") }
        if let mutant, parsedMutant == nil {
            throw ValidationError("--mutant expected ID/SIDE with SIDE swift, c or both and ID one of \(Mutation.allCases.map(\.id).joined(separator: ", ")), found '\(mutant)'")
        }
        guard parsedShard != nil else { throw ValidationError("--shard expected K/N with 1 <= K <= N, found '\(shard)'") }
    }

    var parsedMutant: Mutant? {
        let parts = (mutant ?? "").split(separator: "/").map(String.init)
        guard parts.count == 2, let m = Mutation.byID[parts[0]], let side = MutantSide(rawValue: parts[1]) else { return nil }
        return Mutant(m, side)
    }

    var parsedShard: (Int, Int)? {
        let parts = shard.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let k = parts[0], let n = parts[1], n >= 1, k >= 1, k <= n else { return nil }
        return (k, n)
    }

    func run() throws {
        skbref_keep_freed_memory()
        var options = CampaignOptions()
        options.targets = targetOptions.space
        options.iterations = iterations
        options.seed = seed.flatMap(parseUInt64) ?? UInt64.random(in: 0...UInt64.max)
        options.maxOps = maxOps
        options.jobs = jobs
        options.shard = parsedShard!
        options.outDirectory = out
        options.maxDivergences = maxDivergences
        options.comparison = compare
        options.mutant = parsedMutant
        options.checksLeaks = leakCheck
        options.operations = try operations.parsed()
        // SIGINT and SIGTERM stop the campaign: the workers finish the iteration they run, a finding in
        // flight is written whole, the summary so far is printed, and the exit code is 128 + the
        // signal. A second signal ends the process at once.
        let stop = CampaignStop()
        options.stop = stop
        // A queue of its own: the global pool's threads may all be running the campaign.
        let signalQueue = DispatchQueue(label: "skbdiff.signals")
        let handlers = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: signalQueue)
            source.setEventHandler {
                if stop.requested {
                    signal(sig, SIG_DFL)
                    raise(sig)
                }
                stop.request(signal: sig)
            }
            source.resume()
            return source
        }
        defer { handlers.forEach { $0.cancel() } }
        let targets = options.targets.targets
        // The i386 worker is built (or found) before the run; when it cannot be, that is said once.
        if targets.contains(where: { $0.arch == .i386 }), case let .failure(u) = I386Worker.executable {
            I386Worker.warnOnce(u)
        }
        let tree = try kernel.activate(arches: Set(targets.map(\.arch)), quiet: quiet)
        let externals = try external.activate(quiet: quiet)
        if !externals.isEmpty && !targets.contains(where: { t in externals.contains { $0.capabilities.arches.contains(t.arch) } }) {
            printError("skbdiff: no target of the campaign has an arch the external implementations support")
            throw ExitCode(2)
        }
        if !quiet {
            let described = options.targets.pinned.map(\.description) ?? "\(options.targets) (\(targets.count) targets, one per block of \(TargetSpace.blockSize) iterations)"
            printError("skbdiff: seed 0x\(String(options.seed, radix: 16)), \(options.range.count) iterations, target \(described), \(jobs) job\(jobs == 1 ? "" : "s")")
        }
        let progress = quiet ? nil : Progress(total: UInt64(options.range.count))
        let report: CampaignReport
        do {
            var handler: ProgressHandler?
            if let progress { handler = { done, divergences in progress.update(done, divergences) } }
            report = try Campaign.run(options, progress: handler)
        } catch {
            printError("skbdiff: cannot write findings to \(out): \(error)")
            throw ExitCode(2)
        }
        progress?.finish()
        if json {
            print(Report.json(report))
        } else if !quiet {
            print(Report.summary(report), terminator: "")
        }
        // The smallest reproducer of each cause in full (every finding is in --out).
        let smallest = json ? [] : report.groups.compactMap { g in
            report.findings.first { f in
                f.seedFile.calls.count == g.smallestCalls && FindingGroups.cause(of: Report.oneLine(f.failure)).map {
                    $0.kind == g.kind && $0.operation == g.operation && $0.fields == g.fields
                } == true
            }
        }
        for f in smallest {
            print("")
            print(Report.divergence(f.failure, calls: f.seedFile.calls), terminator: "")
            // With a tree every finding replays with it (the kernel's rows are part of the comparison).
            if let p = f.path { print("Replay with: skbdiff replay \(tree.map { "--kernel-tree \($0.root) " } ?? "")\(external.replayArguments)\(p)") }
        }
        if report.interrupted, let sig = stop.signal {
            if !json { printError("skbdiff: interrupted by signal \(sig) after \(report.counts.iterations) iterations") }
            throw ExitCode(128 + sig)
        }
        if report.counts.divergences > 0 { throw ExitCode(1) }
    }
}

/// A progress line: updated in place on a terminal, plain lines every few seconds elsewhere.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: UInt64
    private let start = Date()
    private var last = Date.distantPast
    private let tty = isatty(STDERR_FILENO) != 0
    private var printed = false

    init(total: UInt64) { self.total = total }

    func update(_ done: UInt64, _ divergences: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(last) >= (tty ? 0.25 : 10) else { return }
        last = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - min(done, total)) / rate : 0
        let line = String(format: "%llu/%llu iterations, %.0f/s, %llu divergences, %.0f s left", done, total, rate, divergences, left)
        if tty {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            printed = true
        } else {
            printError(line)
        }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if tty && printed { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

extension Differential.Comparison: ExpressibleByArgument {}
