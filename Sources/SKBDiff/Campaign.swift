import Dispatch
import Foundation
import SKBuff

/// The targets a campaign draws from: each dimension pinned to one value or left open (nil: every
/// value). Iteration i runs on the target drawn from (seed, i / 512): every block of 512 iterations
/// on one target, so each job builds the implementations of a target once per block, whatever the
/// number of jobs or shards.
public struct TargetSpace: Hashable, Sendable, CustomStringConvertible {
    public var arch: Arch?
    public var config: ConfigProfile?
    public var cacheLine: UInt32?

    public init(arch: Arch? = nil, config: ConfigProfile? = nil, cacheLine: UInt32? = nil) {
        self.arch = arch
        self.config = config
        self.cacheLine = cacheLine
    }

    /// One target only.
    public init(_ target: Target) { self.init(arch: target.arch, config: target.config, cacheLine: target.cacheLine) }

    /// All 24: both architectures, the three CONFIG profiles, the four cache lines.
    public static let all = TargetSpace()
    public static let blockSize: UInt64 = 512

    /// The targets in the space, in a fixed order (arch, config, cache line).
    public var targets: [Target] {
        Target.all.filter { t in arch.map { $0 == t.arch } ?? true && config.map { $0 == t.config } ?? true
            && cacheLine.map { $0 == t.cacheLine } ?? true }
    }

    /// The target when every dimension is pinned.
    public var pinned: Target? {
        guard let arch, let config, let cacheLine else { return nil }
        return Target(arch: arch, config: config, cacheLine: cacheLine)
    }

    /// The target iteration `i` of a campaign with seed `seed` runs on.
    public func target(seed: UInt64, iteration i: UInt64) -> Target {
        TargetSpace.target(in: targets, seed: seed, iteration: i)
    }

    /// The same, given the space's `targets` (the campaign lists them once, not per iteration).
    static func target(in targets: [Target], seed: UInt64, iteration i: UInt64) -> Target {
        if targets.count == 1 { return targets[0] }
        var rng = SplitMix64(seed: seed ^ 0x7461_7267_6574_7321, iteration: i / TargetSpace.blockSize)
        return targets[Int(rng.next() % UInt64(targets.count))]
    }

    /// `x86_64/minimal/128`, with `all` for an open dimension (`all/all/all`: every target).
    public var description: String {
        "\(arch?.rawValue ?? "all")/\(config?.rawValue ?? "all")/\(cacheLine.map(String.init) ?? "all")"
    }
}

/// What a fuzzing campaign runs.
public struct CampaignOptions: Sendable {
    /// The targets iterations are drawn from (every one by default).
    public var targets = TargetSpace.all
    /// One target for every iteration: setting it pins all three dimensions; reading it gives the
    /// pinned target, or the default one when the space is open.
    public var target: Target {
        get { targets.pinned ?? Target() }
        set { targets = TargetSpace(newValue) }
    }
    public var iterations: UInt64 = 1000
    public var seed: UInt64 = 0
    public var maxOps = 32
    public var jobs = 1
    /// The K-th (1-based) of N disjoint contiguous slices of the iteration space.
    public var shard: (index: Int, count: Int) = (1, 1)
    /// Where findings are written (nil: not written).
    public var outDirectory: String?
    /// Stop after this many failing iterations (counted over a deterministic prefix of blocks).
    public var maxDivergences = 20
    /// What is compared after each call (Specs/snapshot.md, "Comparing"); a mismatch in `.touched`
    /// re-runs the sequence in `.full`.
    public var comparison: Differential.Comparison = .touched
    /// A fault switched on for the whole campaign (`skbdiff mutants`); nil for the real helpers.
    public var mutant: Mutant?
    /// End each sequence with the leak check (Specs/snapshot.md, "Leaks").
    public var checksLeaks = true
    /// Asked to stop (SIGINT, SIGTERM): the workers finish the iteration they run, and any finding
    /// in flight is shrunk and written; the report counts what ran.
    public var stop: CampaignStop?
    /// The kernel workers to compare, by arch (`--kernel-tree`); nil: Differential.kernelWorkers.
    public var kernelWorkers: [Arch: String]?
    /// The external programs to compare (`--impl`); nil: Differential.externalPrograms.
    public var externals: [ExternalSpec]?
    /// The only operations the generator draws (`--ops`); nil: every one.
    public var operations: Set<Operation>?

    public init() {}

    /// The iterations this shard runs: [iterations * (K-1) / N, iterations * K / N).
    public var range: Range<UInt64> {
        let n = UInt64(shard.count)
        func bound(_ k: UInt64) -> UInt64 { n.dividingFullWidth(iterations.multipliedFullWidth(by: k)).quotient }
        return bound(UInt64(shard.index - 1))..<bound(UInt64(shard.index))
    }
}

/// A request to stop a running campaign, from another thread (a signal handler's queue).
public final class CampaignStop: @unchecked Sendable {
    private let lock = NSLock()
    private var signalNumber: Int32?

    public init() {}

    /// Ask the campaign to stop; `signal` is what asked (0 when not a signal). The first request wins.
    public func request(signal: Int32 = 0) {
        lock.lock()
        if signalNumber == nil { signalNumber = signal }
        lock.unlock()
    }

    public var requested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return signalNumber != nil
    }

    /// The signal that asked, if one did.
    public var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return signalNumber
    }
}

/// A failing iteration, shrunk and (when an output directory is given) saved.
public struct Finding: Sendable {
    public var iteration: UInt64
    public var seedFile: SeedFile
    public var failure: Divergence
    public var path: String?
}

/// Counts over a campaign; merging two is adding them up, so the totals do not depend on how the
/// iterations were split among jobs.
public struct CampaignCounts: Sendable {
    public var iterations: UInt64 = 0
    public var operations: UInt64 = 0
    public var divergences: UInt64 = 0
    public var opCounts = [UInt64](repeating: 0, count: Operation.allCases.count)
    /// By outcome kind: ok, NULL, error, panic over, panic under, BUG, overflow.
    public var outcomeCounts = [UInt64](repeating: 0, count: CampaignCounts.outcomeKinds.count)
    /// Sequences that met each quirk, by catalogue index.
    public var quirkCounts = [UInt64](repeating: 0, count: Quirk.catalogue.count)
    /// Sequences re-run with full comparison because the touched comparison saw a mismatch.
    public var reruns: UInt64 = 0
    /// Sequences in which an skb was nonlinear: an add_frag of a nonempty range succeeded.
    public var nonlinearSequences: UInt64 = 0
    /// (call, live reference) pairs; of them, those compared OFF against PTR, and those the former
    /// per-sequence rule (one ending quirk stops OFF/PTR comparison for the sequence) would have compared.
    public var livePairs: UInt64 = 0
    public var offPtrPairs: UInt64 = 0
    public var offPtrPairsPerSequence: UInt64 = 0
    /// With a kernel tree (`--kernel-tree`): the sequences, and their calls, compared with the
    /// kernel's code (a sequence calling an operation the tree lacks is not).
    public var kernel = false
    public var kernelSequences: UInt64 = 0
    public var kernelCalls: UInt64 = 0
    /// Per external implementation (`--impl`, by name): sequences sent to it, those compared whole,
    /// calls compared, and sequences ended by its failure (Specs/protocol.md).
    public var externals: [String: ExternalCounts] = [:]
    /// Iterations run on each target, by index in `Target.all`.
    public var targetIterations = [UInt64](repeating: 0, count: Target.all.count)

    public static let outcomeKinds = ["ok", "NULL", "error", "panic over", "panic under", "BUG", "overflow"]

    static func kindIndex(_ o: Outcome) -> Int {
        switch o {
        case .ok: return 0
        case .null: return 1
        case .error: return 2
        case .panicOver: return 3
        case .panicUnder: return 4
        case .bug: return 5
        case .overflow: return 6
        }
    }

    mutating func add(_ other: CampaignCounts) {
        iterations += other.iterations
        operations += other.operations
        divergences += other.divergences
        for i in opCounts.indices { opCounts[i] += other.opCounts[i] }
        for i in outcomeCounts.indices { outcomeCounts[i] += other.outcomeCounts[i] }
        for i in quirkCounts.indices { quirkCounts[i] += other.quirkCounts[i] }
        reruns += other.reruns
        nonlinearSequences += other.nonlinearSequences
        livePairs += other.livePairs
        offPtrPairs += other.offPtrPairs
        offPtrPairsPerSequence += other.offPtrPairsPerSequence
        kernel = kernel || other.kernel
        kernelSequences += other.kernelSequences
        kernelCalls += other.kernelCalls
        for (name, e) in other.externals { externals[name, default: ExternalCounts()].add(e) }
        for i in targetIterations.indices { targetIterations[i] += other.targetIterations[i] }
    }

    mutating func record(_ result: SequenceResult) {
        iterations += 1
        var nonlinear = false
        opCounts.withUnsafeMutableBufferPointer { opCounts in
            outcomeCounts.withUnsafeMutableBufferPointer { outcomeCounts in
                for (call, outcome) in zip(result.calls, result.outcomes) {
                    guard let outcome else { continue }
                    operations += 1
                    opCounts[call.op.rawValue] += 1
                    outcomeCounts[CampaignCounts.kindIndex(outcome)] += 1
                    if call.op == .add_frag && call.arg1 != 0 && outcome == .ok(0) { nonlinear = true }
                }
            }
        }
        for id in result.quirks {
            if let i = Quirk.catalogue.firstIndex(where: { $0.id == id }) { quirkCounts[i] += 1 }
        }
        if result.failure != nil { divergences += 1 }
        if result.rerun { reruns += 1 }
        if nonlinear { nonlinearSequences += 1 }
        livePairs += result.livePairs
        offPtrPairs += result.offPtrPairs
        offPtrPairsPerSequence += result.offPtrPairsPerSequence
        if result.kernel {
            kernel = true
            if !result.lacking {
                kernelSequences += 1
                for o in result.outcomes where o != nil { kernelCalls += 1 }
            }
        }
        for t in result.externals {
            var e = externals[t.name, default: ExternalCounts()]
            e.sequences += 1
            if t.whole { e.whole += 1 }
            e.calls += UInt64(t.calls)
            if t.failed { e.failures += 1 }
            externals[t.name] = e
        }
    }
}

/// What a campaign compared of one external implementation.
public struct ExternalCounts: Sendable, Equatable {
    public var sequences: UInt64 = 0
    public var whole: UInt64 = 0
    public var calls: UInt64 = 0
    public var failures: UInt64 = 0

    mutating func add(_ o: ExternalCounts) {
        sequences += o.sequences
        whole += o.whole
        calls += o.calls
        failures += o.failures
    }

    var json: [String: UInt64] { ["sequences": sequences, "whole": whole, "calls": calls, "failures": failures] }
}

public struct CampaignReport: Sendable {
    /// The findings grouped by cause, the largest group first.
    public var groups: [FindingGroup] {
        FindingGroups.group(findings.map { FindingGroups.Item(summary: Report.oneLine($0.failure), calls: $0.seedFile.calls.count, path: $0.path) })
    }

    public var options: CampaignOptions
    public var counts: CampaignCounts
    public var findings: [Finding]
    public var elapsedSeconds: Double
    /// The campaign stopped early at maxDivergences.
    public var stoppedEarly: Bool
    /// The campaign was asked to stop (`CampaignOptions.stop`) before it ran every iteration.
    public var interrupted = false
}

/// Progress as the campaign goes: iterations done so far, divergences so far.
public typealias ProgressHandler = @Sendable (_ done: UInt64, _ divergences: UInt64) -> Void

/// Runs a campaign over several threads. Iteration i is generated from (seed, i) alone and the
/// work is cut into blocks whose results are kept by block number, so the counts and the findings
/// are the same whatever the number of jobs.
public enum Campaign {
    static let blockSize: UInt64 = 512
    /// Sequences handed to the i386 worker per request: a round trip to another process costs more
    /// than a sequence's calls, so many share one.
    public static let deferredBatch = 32

    public static func run(_ options: CampaignOptions, progress: ProgressHandler? = nil) throws -> CampaignReport {
        let range = options.range
        let blocks = Int((UInt64(range.count) + blockSize - 1) / blockSize)
        let state = SharedState(blocks: blocks)
        if let dir = options.outDirectory { try FindingWriter.prepare(dir) }
        let start = DispatchTime.now()
        let jobs = max(1, min(options.jobs, max(blocks, 1)))
        let targets = options.targets.targets
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            // The implementations of the target the current block runs on.
            var current: (target: Target, differential: Differential, generator: Generator)?
            while options.stop?.requested != true, let b = state.nextBlock(limit: options.maxDivergences) {
                let lower = range.lowerBound + UInt64(b) * blockSize
                let upper = min(lower + blockSize, range.upperBound)
                var counts = CampaignCounts()
                var findings: [Finding] = []
                var result = SequenceResult()
                // Iterations whose deferred implementations (the C reference) have not run yet, and
                // those the workers are running meanwhile (the Swift side goes on with the next ones);
                // they are settled, and counted, in iteration order before anything after them.
                var waiting: [(i: UInt64, target: Target, result: SequenceResult)] = []
                var running: [(i: UInt64, target: Target, result: SequenceResult)] = []
                // Results settled, whose storage the next waiting iterations reuse (a result handed to
                // `waiting` keeps its arrays, so `result` needs others).
                var spare: [SequenceResult] = []
                func finishRunning(_ differential: Differential) {
                    let ok = differential.finishFlush()
                    for (n, var w) in running.enumerated() {
                        if !ok[n] { w.result = differential.rerunFull(w.result.calls) }
                        record(w.i, w.target, w.result, differential)
                        spare.append(w.result)
                    }
                    running.removeAll(keepingCapacity: true)
                }
                /// Hand the waiting ones to the workers, after the ones they are running are settled.
                func startWaiting(_ differential: Differential) {
                    finishRunning(differential)
                    differential.startFlush()
                    swap(&waiting, &running)
                }
                func settle(_ differential: Differential) {
                    startWaiting(differential)
                    finishRunning(differential)
                }
                func record(_ i: UInt64, _ target: Target, _ result: SequenceResult, _ differential: Differential) {
                    counts.record(result)
                    counts.targetIterations[target.index] += 1
                    if let failure = result.failure {
                        findings.append(shrink(i, result: result, failure: failure, options: options, differential: differential))
                    }
                }
                for i in lower..<upper {
                    if options.stop?.requested == true { break }
                    // This block alone reached the limit: nothing after it can count.
                    if findings.count >= options.maxDivergences { break }
                    let target = TargetSpace.target(in: targets, seed: options.seed, iteration: i)
                    if current?.target != target {
                        if let d = current?.differential { settle(d) }
                        let differential = Differential(target: target, implementations:
                            Differential.standardImplementations(target, kernel: options.kernelWorkers),
                                                        externals: options.externals)
                        differential.switchOn(options.mutant)
                        differential.checksLeaks = options.checksLeaks
                        differential.defersBatches = true
                        current = (target, differential, differential.generator(maxOps: options.maxOps, only: options.operations))
                    }
                    let (_, differential, generator) = current!
                    let before = differential.pendingCount
                    runIteration(i, options: options, differential: differential, generator: generator, into: &result)
                    if differential.pendingCount > before {
                        waiting.append((i, target, result))
                        result = spare.popLast() ?? SequenceResult()
                        if waiting.count >= deferredBatch { startWaiting(differential) }
                    } else if waiting.isEmpty && running.isEmpty {
                        record(i, target, result, differential)
                    } else {
                        // Counted after the waiting and running ones, in iteration order.
                        settle(differential)
                        record(i, target, result, differential)
                    }
                }
                if let d = current?.differential { settle(d) }
                state.finish(block: b, counts: counts, findings: findings, limit: options.maxDivergences) { save(&$0, options: options) }
                if let progress { let (done, div) = state.totals(); progress(done, div) }
            }
        }
        let (counts, findings, early) = state.prefix()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        var report = CampaignReport(options: options, counts: counts, findings: findings, elapsedSeconds: elapsed, stoppedEarly: early)
        if options.stop?.requested == true && counts.iterations < UInt64(range.count) {
            report.interrupted = true
            report.stoppedEarly = false
        }
        return report
    }

    /// Generate and run iteration i: the generator sees the reference implementation's pool.
    public static func runIteration(_ i: UInt64, options: CampaignOptions, differential: Differential,
                                    generator: Generator) -> SequenceResult {
        var result = SequenceResult()
        runIteration(i, options: options, differential: differential, generator: generator, into: &result)
        return result
    }

    /// The same, reusing `result`'s storage (the campaign's path). The generator reads the reference
    /// implementation's pool, so both ways of comparing run the same calls.
    public static func runIteration(_ i: UInt64, options: CampaignOptions, differential: Differential,
                                    generator: Generator, into result: inout SequenceResult) {
        var rng = SplitMix64(seed: options.seed, iteration: i)
        let length = generator.length(&rng)
        differential.reset()
        result.removeAll()
        let reference = differential.reference
        var previous: Call?
        for _ in 0..<length {
            let call = generator.next(&rng, from: reference, after: previous)
            if !differential.step(call, comparison: options.comparison, &result) { break }
            previous = call
        }
        differential.finish(comparison: options.comparison, &result)
    }

    /// A divergence shrunk into a finding (not yet written: `save` writes the ones that count).
    static func shrink(_ i: UInt64, result: SequenceResult, failure: Divergence, options: CampaignOptions,
                       differential: Differential) -> Finding {
        let shrunk = Shrinker(differential: differential).shrink(result.calls, kind: failure.kind)
        let calls = shrunk?.calls ?? result.calls
        let final = shrunk?.failure ?? failure
        let seed = SeedFile(target: differential.target, calls: calls, generatorSeed: options.seed, iteration: i,
                            divergence: Report.oneLine(final))
        return Finding(iteration: i, seedFile: seed, failure: final, path: nil)
    }

    /// Write a finding that counts (its .skb and .svg) to the findings directory, when there is one.
    static func save(_ finding: inout Finding, options: CampaignOptions) {
        let seed = finding.seedFile, final = finding.failure, calls = seed.calls
        if let dir = options.outDirectory {
            finding.path = try? FindingWriter.write(seed, kind: final.kind, to: dir)
            if let path = finding.path {
                // A picture of the diverging step beside it: the two disagreeing implementations.
                let header = ["skbdiff finding: \(Report.oneLine(final))", "target \(seed.target); the shrunk sequence:"]
                    + calls.enumerated().map { "  [\($0.offset)] \(SeedFile.render($0.element))" }
                    + final.views.filter { $0.given != nil }.map { "\($0.name) replied: \($0.reply ?? "")" }
                let shinfo = Int64(KernelStructs.sharedInfo(arch: seed.target.arch).size)
                try? FindingWriter.writeAtomically(Diagram.svg(header: header, rows: Diagram.findingRows(final), shinfo: shinfo),
                                                   to: (path as NSString).deletingPathExtension + ".svg")
            }
        }
    }

    /// The blocks handed out and the results handed back, behind one lock.
    /// Block results are summed in block order as soon as the blocks before them are in, so the
    /// memory held is that of the few blocks finished out of order, not of every block run.
    final class SharedState: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        private let blocks: Int
        /// Finished blocks waiting for an earlier one.
        private var pending: [Int: (CampaignCounts, [Finding])] = [:]
        /// The sum of blocks 0..<folded, and their findings.
        private var folded = 0
        private var total = CampaignCounts()
        private var findings: [Finding] = []
        /// The block at which the ordered sum reached the divergence limit; later blocks do not count.
        private var limitReachedAt: Int?
        private var doneIterations: UInt64 = 0
        private var divergences: UInt64 = 0

        init(blocks: Int) {
            self.blocks = blocks
        }

        func nextBlock(limit: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard next < blocks, divergences < UInt64(limit) else { return nil }
            next += 1
            return next - 1
        }

        /// A block's results, summed in block order; `save` writes each finding that counts (the
        /// first `limit` in iteration order, whatever the number of jobs), as soon as it is known to.
        func finish(block: Int, counts: CampaignCounts, findings found: [Finding], limit: Int, save: (inout Finding) -> Void) {
            lock.lock()
            defer { lock.unlock() }
            doneIterations += counts.iterations
            divergences += counts.divergences
            guard limitReachedAt == nil else { return }
            pending[block] = (counts, found)
            while limitReachedAt == nil, let (c, f) = pending.removeValue(forKey: folded) {
                total.add(c)
                for var finding in f.prefix(max(0, limit - findings.count)) {
                    save(&finding)
                    findings.append(finding)
                }
                if total.divergences >= UInt64(limit) { limitReachedAt = folded }
                folded += 1
            }
            if limitReachedAt != nil { pending.removeAll() }
        }

        func totals() -> (UInt64, UInt64) {
            lock.lock()
            defer { lock.unlock() }
            return (doneIterations, divergences)
        }

        /// The blocks from the first up to the one where the divergences reach the limit: every one
        /// of them ran whatever the number of jobs. Early: some block did not count.
        func prefix() -> (CampaignCounts, [Finding], Bool) {
            lock.lock()
            defer { lock.unlock() }
            if let b = limitReachedAt { return (total, findings, b < blocks - 1) }
            return (total, findings, folded < blocks)
        }
    }
}

/// Writes findings atomically, named after their content (like libFuzzer's crash-<sha1>).
public enum FindingWriter {
    public static func prepare(_ dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    public static func write(_ seed: SeedFile, kind: Divergence.Kind, to dir: String) throws -> String {
        let text = seed.render()
        // Named by the calls and the target only, so the same minimal sequence found twice is one file.
        let key = SeedFile(target: seed.target, calls: seed.calls).render()
        let hash = Array(key.utf8).withUnsafeBytes { PacketBytes.digest($0) }
        let name = "\(kind.rawValue)-\(String(hash, radix: 16)).\(SeedFile.fileExtension)"
        let path = (dir as NSString).appendingPathComponent(name)
        try writeAtomically(text, to: path)
        return path
    }

    /// Written whole or not at all: to a temporary name, then renamed.
    public static func writeAtomically(_ text: String, to path: String) throws {
        let tmp = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))"
        try Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
        if rename(tmp, path) != 0 {
            try? FileManager.default.removeItem(atPath: tmp)
            throw CocoaError(.fileWriteUnknown)
        }
    }
}
