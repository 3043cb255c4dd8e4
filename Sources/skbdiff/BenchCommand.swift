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
        them (call plus snapshot), and the differential step that runs all of them and compares. \
        Each figure is the median of --repeat runs on one thread. Build with -c release for figures \
        that mean anything.
        """
    )

    @Option(help: "Sequences in the workload.")
    var iterations: UInt64 = 20_000

    @Option(help: "Generator seed.")
    var seed: UInt64 = 1

    @Option(help: "Timed runs per figure; the median is printed.")
    var `repeat`: Int = 5

    @OptionGroup var targetOptions: TargetOptions

    func run() throws {
        skbref_keep_freed_memory()
        let target = targetOptions.target
        var options = CampaignOptions()
        options.target = target
        options.seed = seed
        let differential = Differential(target: target)
        let generator = Generator(target: target, maxOps: options.maxOps)
        let workload = (0..<iterations).map {
            Campaign.runIteration($0, options: options, differential: differential, generator: generator).calls
        }
        let operations = workload.reduce(0) { $0 + $1.count }
        print("workload: \(iterations) sequences, \(operations) operations, target \(target), median of \(`repeat`)")

        func time(_ body: () -> Void) -> Double {
            let samples = (0..<max(1, `repeat`)).map { _ -> Double in
                let t0 = DispatchTime.now().uptimeNanoseconds
                body()
                return Double(DispatchTime.now().uptimeNanoseconds - t0)
            }.sorted()
            return samples[samples.count / 2] / Double(operations)
        }
        var states: [ReferenceState] = []
        for impl in Differential.standardImplementations(target) {
            let ns = time {
                for calls in workload {
                    impl.reset()
                    for (i, call) in calls.enumerated() {
                        _ = impl.run(call, pattern: UInt32(i))
                        impl.snapshot(into: &states)
                    }
                }
            }
            print("  " + impl.name.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: " %8.1f ns/op", ns))
        }
        let diff = time {
            for calls in workload { _ = differential.run(calls) }
        }
        print("  " + "differential step".padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: " %8.1f ns/op", diff))
    }
}
