import ArgumentParser
import CSKBuff
import Dispatch
import Foundation
import SKBDiff
import SKBuff

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Print ns per operation for each implementation alone and for the full differential step.",
        discussion: """
        Generates --iterations sequences once (from --seed), then times each implementation running \
        them alone: the calls only; the calls with the states the campaign compares (before and \
        after each call, the references it can have changed; at the end every reference; then the \
        leak check), taken and not compared; and the calls each followed by a snapshot of the pool. \
        Then the differential step that runs all of them in turn and compares after every call: as \
        the campaign does and, for scale, with every reference after every call (replay's way). \
        Three ratios follow: the step to the calls alone; the states the contract compares to the \
        calls (what any engine must pay at today's cost of a state: its floor); the step to that \
        floor (the engine's own cost: comparing, bookkeeping, taking turns). With --kernel-tree the tree's own code is timed too (kernel-off, kernel-ptr, in its worker \
        as the campaign drives it: the floor every other figure stands on), with the C reference's \
        calls as a ratio to it. Each figure is the median of --repeat \
        rounds on one thread; every round times every figure in turn, so a machine whose speed \
        drifts slows them alike. Build with -c release for figures that mean anything.
        """
    )

    @Option(help: "Sequences in the workload.")
    var iterations: UInt64 = 20_000

    @Option(help: "Generator seed.")
    var seed: UInt64 = 1

    @Option(help: "Rounds; every round times every figure once, and the median is printed.")
    var `repeat`: Int = 5

    @OptionGroup var targetOptions: TargetOptions

    @OptionGroup var kernel: KernelTreeOptions

    @OptionGroup var external: ExternalOptions

    @OptionGroup var operations: OperationsOption

    func run() throws {
        skbref_keep_freed_memory()
        let target = targetOptions.target
        try kernel.activate(arches: [target.arch], quiet: true)
        let externals = try external.activate(quiet: true)
        var options = CampaignOptions()
        options.target = target
        options.seed = seed
        // The built-ins' step; each external implementation is timed alone (its own rows).
        let differential = Differential(target: target, externals: [])
        let generator = differential.generator(maxOps: options.maxOps, only: try operations.parsed())
        let workload = (0..<iterations).map {
            Campaign.runIteration($0, options: options, differential: differential, generator: generator).calls
        }
        let operations = workload.reduce(0) { $0 + $1.count }
        print("workload: \(iterations) sequences, \(operations) operations, target \(target), median of \(`repeat`) rounds")

        // Every figure is timed once per round, in turn, so a machine whose speed drifts over
        // minutes slows them all alike; each figure is the median of its rounds.
        let impls = Differential.standardImplementations(target)
        var states: [ReferenceState] = []
        func runAlone(_ impl: Implementation, snapshot: Bool) {
            for calls in workload {
                impl.reset()
                for (i, call) in calls.enumerated() {
                    _ = impl.run(call, pattern: UInt32(i))
                    if snapshot { impl.snapshot(into: &states) }
                }
            }
        }
        // The i386 worker is timed as the campaign drives it: whole sequences, many per request (with
        // the snapshot: every reference after every call).
        let chunk = Campaign.deferredBatch
        func batches(snapshot: Bool) -> [[WorkerImplementation.Batch]] {
            stride(from: 0, to: workload.count, by: chunk).map { start in
                workload[start..<min(start + chunk, workload.count)].map { calls in
                    var b = WorkerImplementation.Batch(), refs = 0
                    for call in calls {
                        if call.op.effect == .produces { refs += 1 }
                        b.append(call, before: -1, touched: snapshot ? Array(0..<refs) : [])
                    }
                    return b
                }
            }
        }
        let plain = batches(snapshot: false), snapshots = batches(snapshot: true)
        func runBatches(_ w: WorkerImplementation, _ all: [[WorkerImplementation.Batch]], leakCheck: Bool = false) {
            for b in all {
                w.startBatches(b[...], leakCheck: leakCheck)
                _ = w.receiveBatches()
            }
        }
        // The states the campaign compares, per call: as the differential records them for its batch
        // runners (the C reference), chunk by chunk.
        var compared: [[WorkerImplementation.Batch]] = []
        differential.defersBatches = true
        for start in stride(from: 0, to: workload.count, by: chunk) {
            for calls in workload[start..<min(start + chunk, workload.count)] { _ = differential.run(calls, comparison: .touched) }
            compared.append(Array(differential.pendingBatches))
            _ = differential.flushDeferred()
        }
        if compared.joined().count != workload.count { compared = batches(snapshot: true) }
        // Without batch runners (i386 with no worker) nothing records them: every reference then.
        func runCompared(_ impl: Implementation) {
            var r = ReferenceState(reference: 0, frozen: false, state: SKBState())
            for chunk in compared {
                for b in chunk {
                    impl.reset()
                    for (k, call) in b.calls.enumerated() {
                        if b.before[k] >= 0 { _ = impl.state(of: Int(b.before[k]), into: &r) }
                        _ = impl.run(call, pattern: UInt32(k))
                        let hi = k + 1 < b.calls.count ? Int(b.touchedStart[k + 1]) : b.touched.count
                        for j in Int(b.touchedStart[k])..<hi { _ = impl.state(of: Int(b.touched[j]), into: &r) }
                    }
                    impl.snapshot(into: &states)
                    for ref in 0..<impl.referenceCount where impl.isRunnable(ref) { _ = impl.run(Call(.kfree_skb, target: ref), pattern: 0) }
                    _ = impl.liveAllocations
                }
            }
        }
        var figures: [() -> Void] = []
        for impl in impls {
            if let w = impl as? WorkerImplementation {
                figures.append { runBatches(w, plain) }
                figures.append { runBatches(w, compared, leakCheck: true) }
                figures.append { runBatches(w, snapshots) }
            } else {
                figures.append { runAlone(impl, snapshot: false) }
                figures.append { runCompared(impl) }
                figures.append { runAlone(impl, snapshot: true) }
            }
        }
        // External implementations (--impl): the workload's calls sent one by one, each answered.
        let others = Differential(target: target, externals: externals).externals
        // The calls each answers (a sequence stops at an operation it lacks): its figure is per answered call.
        var answered = Array(repeating: 0, count: others.count)
        for (k, e) in others.enumerated() {
            figures.append {
                answered[k] = 0
                // As the campaign does: calls sent ahead of their replies, a window at a time.
                func drain() { while e.owed > 0 { if e.receive() == .replied { answered[k] += 1 } } }
                for calls in workload {
                    e.reset()
                    for call in calls where e.send(call) && e.owed >= ExternalImplementation.window { drain() }
                    drain()
                }
            }
        }
        figures.append {
            differential.defersBatches = true
            for calls in workload {
                _ = differential.run(calls, comparison: .touched)
                if differential.pendingCount >= chunk { _ = differential.flushDeferred() }
            }
            _ = differential.flushDeferred()
        }
        figures.append { differential.defersBatches = false; for calls in workload { _ = differential.run(calls, comparison: .full) } }
        var samples = Array(repeating: [Double](), count: figures.count)
        for _ in 0..<max(1, `repeat`) {
            for (k, figure) in figures.enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                figure()
                samples[k].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(operations))
            }
        }
        let ns = samples.map { $0.sorted()[$0.count / 2] }
        func row(_ name: String, _ values: [Double?], _ note: String = "") {
            let cells = values.map { $0.map { String(format: "%12.1f", $0) } ?? String(repeating: " ", count: 12) }.joined()
            print("  " + name.padding(toLength: 22, withPad: " ", startingAt: 0) + cells + "  ns/op" + note)
        }
        print("  " + "".padding(toLength: 22, withPad: " ", startingAt: 0)
              + "call".leftPadded(12) + "+ compared".leftPadded(12) + "+ snapshot".leftPadded(12))
        for (i, impl) in impls.enumerated() { row(impl.name, [ns[3 * i], ns[3 * i + 1], ns[3 * i + 2]]) }
        let calls = impls.indices.reduce(0) { $0 + ns[3 * $1] }
        let floor = impls.indices.reduce(0) { $0 + ns[3 * $1 + 1] }
        let alone = impls.indices.reduce(0) { $0 + ns[3 * $1 + 2] }
        row("sum, one at a time", [calls, floor, alone])
        let step = ns[figures.count - 2], full = ns[figures.count - 1]
        row("differential step", [nil, step], "  (all \(impls.count) in turn, what each call can change compared)")
        row("comparing and turns", [nil, step - floor], "  (differential step minus the calls and states alone)")
        print("  step / calls alone: " + String(format: "%.2f", step / calls)
              + "  = states compared / calls: " + String(format: "%.2f", floor / calls)
              + "  x step / states compared: " + String(format: "%.2f", step / floor))
        for (k, e) in others.enumerated() {
            let v = ns[3 * impls.count + k] * Double(operations) / Double(max(1, answered[k]))
            let model = impls.firstIndex { $0.name == (e.representation == .offset ? "swift-off" : "swift-ptr") }!
            row(e.name, [v, nil], String(format: "  (external, calls sent ahead as a campaign does, per call answered (%d): %.1fx %@'s calls)",
                                         answered[k], v / ns[3 * model], impls[model].name))
        }
        row("full comparison step", [nil, nil, full], "  (every reference after every call, as replay)")
        // The kernel's own code, the floor: each other implementation's calls as a ratio to it.
        for representation in ["off", "ptr"] {
            guard let k = impls.firstIndex(where: { $0.name == "kernel-\(representation)" }) else { continue }
            let others = impls.indices.filter { impls[$0].name.hasSuffix("-\(representation)") && $0 != k }
            print("  calls / kernel-\(representation)'s calls: " + others.map { i in
                "\(impls[i].name) " + String(format: "%.2f", ns[3 * i] / ns[3 * k])
            }.joined(separator: ", ") + (impls[others.first { impls[$0].name.hasPrefix("c-") } ?? k] is WorkerImplementation
                ? "" : " (the C reference in this process, the kernel's code in its worker)"))
        }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

