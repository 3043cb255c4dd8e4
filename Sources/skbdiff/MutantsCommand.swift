import ArgumentParser
import Foundation
import SKBDiff
import SKBuff

struct MutantsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mutants",
        abstract: "Plant each catalogued fault and report whether the fuzzer or the corpus catches it.",
        discussion: """
        Each mutant of the catalogue (Specs/mutants.txt) is a realistic porting bug switched on at \
        run time in the Swift model, the C reference, or both. A one-sided mutant is fuzzed with the \
        fault on until the first divergence (at most --budget iterations, shrunk as a finding would \
        be); every mutant is also replayed against the corpus with its stated outcomes and fields. A \
        fault made the same way on both sides is invisible to the fuzzer: only the corpus's \
        hand-worked expectations can catch it. An equivalent mutant (marked in the catalogue with \
        the argument why) does not count, and must not be killed.

        The gate: every non-equivalent one-sided mutant dies by the fuzzer within the budget with a \
        reproducer of at most --max-shrunk calls, and every both-sided one dies by the corpus. \
        Exit codes: 0 the gate holds, 1 it does not, 2 bad usage or bad input.

        With --kernel-tree DIR every fault is also switched on in the Swift model and the C reference \
        at once (a porting bug made the same way in both) and fuzzed with the tree's own code beside \
        them (Specs/kernel.md): the gate then also needs every non-equivalent fault to die there \
        within the budget (the "kernel" column), except one only an operation the tree lacks can \
        show (from-cache-truesize: 2.6.24 has no alloc_skb_from_cache).

        Examples:
          skbdiff mutants                           the whole catalogue, default seed
          skbdiff mutants --only put-ge --json      one fault, machine-readable
          skbdiff mutants --kernel-tree ../shared/kernel/linux-2.6.24
                                                    and each fault against the kernel's own code
        """
    )

    @OptionGroup var targetOptions: TargetSpaceOptions

    @Option(help: "Fuzzer iterations per one-sided mutant at most.")
    var budget: UInt64 = 100_000

    @Option(help: "Generator seed, decimal or 0x-hex.")
    var seed: String = "1"

    @Option(help: "Worker threads.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The mutant catalogue.")
    var catalogue: String = "Specs/mutants.txt"

    @Option(help: "The corpus: seed files or directories of them.")
    var corpus: [String] = ["Specs/seeds"]

    @Option(help: "Run only these mutant ids (repeatable).")
    var only: [String] = []

    @Option(name: .customLong("max-shrunk"), help: "The longest reproducer the gate accepts.")
    var maxShrunk: Int = 6

    @Option(help: "Directory to write each fuzzer-killed mutant's shrunk reproducer to, as ID-SIDE.skb.")
    var out: String?

    @Flag(help: "Print one JSON object on stdout instead of the table.")
    var json = false

    @OptionGroup var kernel: KernelTreeOptions

    func validate() throws {
        guard parseUInt64(seed) != nil else { throw ValidationError("--seed expected a decimal or 0x-hex number, found '\(seed)'") }
        guard budget >= 1 else { throw ValidationError("--budget expected at least 1, found \(budget)") }
        guard jobs >= 1 else { throw ValidationError("--jobs expected at least 1, found \(jobs)") }
        for id in only where Mutation.byID[id] == nil {
            throw ValidationError("--only: unknown mutant '\(id)'; expected one of \(Mutation.allCases.map(\.id).joined(separator: ", "))")
        }
    }

    func run() throws {
        let mutants: [Mutant]
        let seeds: [(path: String, seed: SeedFile)]
        do {
            mutants = try MutantCatalogue.load(catalogue).filter { only.isEmpty || only.contains($0.id) }
            seeds = try Replay.files(corpus).map { ($0, try Replay.load($0)) }
        } catch let error as SeedError {
            printError(error.description)
            throw ExitCode(2)
        }
        var options = CampaignOptions()
        options.iterations = budget
        options.seed = parseUInt64(seed)!
        options.jobs = jobs
        options.targets = targetOptions.space

        var kernelOptions: CampaignOptions?
        if let (_, executables) = try kernel.workers(arches: Set(options.targets.targets.map(\.arch)), quiet: json) {
            kernelOptions = options
            kernelOptions!.kernelWorkers = executables
        }
        var results: [MutantResult] = []
        var kernelRuns: [Mutation: MutantResult] = [:]
        for (k, mutant) in mutants.enumerated() {
            if !json { printError("[\(k + 1)/\(mutants.count)] \(mutant.id) (\(mutant.side.rawValue))") }
            do {
                var r = try MutantRunner.run(mutant, options: options, corpus: seeds)
                if let kernelOptions {
                    // One kernel campaign per fault, whatever sides the catalogue lists it on.
                    if let done = kernelRuns[mutant.mutation] {
                        (r.kernelRan, r.kernelLacks, r.kernelIterations, r.kernelDifference) =
                            (done.kernelRan, done.kernelLacks, done.kernelIterations, done.kernelDifference)
                    } else {
                        try MutantRunner.runKernel(&r, options: kernelOptions)
                        kernelRuns[mutant.mutation] = r
                    }
                }
                results.append(r)
            } catch let error as SeedError {
                printError(error.description)
                throw ExitCode(2)
            }
        }
        if let out {
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                for r in results {
                    guard let seed = r.reproducer else { continue }
                    var text = seed.render()
                    text.insert(contentsOf: "# mutant: \(r.mutant.id) on \(r.mutant.side.rawValue) (replay with the fault off agrees)\n",
                                at: text.index(text.startIndex, offsetBy: text.prefix(while: { $0 != "\n" }).count + 1))
                    try text.write(toFile: (out as NSString).appendingPathComponent("\(r.mutant.id)-\(r.mutant.side.rawValue).skb"),
                                   atomically: true, encoding: .utf8)
                }
            } catch {
                printError("\(out): cannot write the reproducers: \(error.localizedDescription)")
                throw ExitCode(2)
            }
        }
        let failures = results.compactMap { r in r.gateFailure(maxShrunk: maxShrunk).map { (r, $0) } }
        if json {
            print(jsonText(results, failures))
        } else {
            print(table(results))
            let counted = results.filter { $0.mutant.equivalence == nil }
            print("\n\(results.count) mutants: \(counted.filter(\.killed).count) of \(counted.count) killed, "
                  + "\(results.count - counted.count) equivalent (seed \(seed), budget \(budget))")
            if failures.isEmpty {
                print("gate holds")
            } else {
                print("gate fails:")
                for (r, why) in failures { print("  \(r.mutant.id) (\(r.mutant.side.rawValue)): \(why)") }
            }
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    func table(_ results: [MutantResult]) -> String {
        let withKernel = results.contains { $0.kernelRan }
        let header = ["id", "side", "killed", "by", "iterations", "shrunk"] + (withKernel ? ["kernel"] : []) + ["first difference"]
        let rows = results.map { r -> [String] in
            let killed: String = r.mutant.equivalence != nil ? (r.killed ? "EQUIV?" : "equiv") : (r.killed ? "yes" : "NO")
            let by: String = r.killedBy.map { ($0 as NSString).lastPathComponent } ?? "-"
            var row: [String] = [r.mutant.id, r.mutant.side.rawValue, killed, by, r.fuzzIterations.map(String.init) ?? "-",
                                 r.shrunkOps.map(String.init) ?? "-"]
            if withKernel {
                let k: String = r.kernelIterations.map(String.init) ?? (r.kernelLacks ? "lacks op" : "NO")
                row.append(k)
            }
            row.append(r.firstDifference ?? r.kernelDifference ?? "-")
            return row
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max()! }
        return ([header] + rows).map { row in
            row.enumerated().map { c, v in c == row.count - 1 ? v : v.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    func jsonText(_ results: [MutantResult], _ failures: [(MutantResult, String)]) -> String {
        let mutants: [[String: Any]] = results.map { r in
            [
                "id": r.mutant.id, "side": r.mutant.side.rawValue, "killed": r.killed,
                "killed_by": r.killedBy ?? NSNull(), "equivalent": r.mutant.equivalence ?? false,
                "iterations": r.fuzzIterations ?? NSNull(), "shrunk_ops": r.shrunkOps ?? NSNull(),
                "first_difference": r.firstDifference ?? NSNull(), "corpus_file": r.corpusFile ?? NSNull(),
                "summary": r.mutant.summary,
                "kernel": r.kernelRan ? ["iterations": r.kernelIterations ?? NSNull(), "first_difference": r.kernelDifference ?? NSNull(),
                                         "lacks_operation": r.kernelLacks] as [String: Any] : NSNull(),
            ]
        }
        let object: [String: Any] = [
            "seed": parseUInt64(seed)!, "budget": budget, "mutants": mutants,
            "gate": ["holds": failures.isEmpty, "failures": failures.map { ["id": $0.0.mutant.id, "side": $0.0.mutant.side.rawValue, "why": $0.1] }],
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
