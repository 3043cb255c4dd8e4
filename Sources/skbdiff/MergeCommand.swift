import ArgumentParser
import Foundation
import SKBDiff

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Add up the --json summaries of a campaign's shards into one summary.",
        discussion: """
        A campaign split with --shard K/N runs as N independent jobs on any batch system (GNU \
        parallel, Slurm arrays, Kubernetes indexed jobs); each prints its summary with --json, and \
        merge sums them into the summary of the whole campaign, with the same keys (counts added, \
        findings in shard order, elapsed_seconds the longest shard's, shard 1/1, merged_shards N). \
        Shards of different seeds, targets, comparisons or campaign sizes, a shard given twice or a \
        missing one are refused with exit 2. The exit code is then 1 when the campaign found a \
        divergence, as the fuzzer's own.

        Example, four shards on one machine:
          parallel 'skbdiff --iterations 1000000 --seed 7 --shard {}/4 --jobs 1 --quiet --json > shard-{}.json' ::: 1 2 3 4
          skbdiff merge shard-*.json
        """
    )

    @Argument(help: "The shards' JSON summaries ('-' reads one from standard input).")
    var files: [String]

    func run() throws {
        var inputs: [(file: String, text: String)] = []
        for file in files {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else {
                printError("\(file): cannot read the file")
                throw ExitCode(2)
            }
            inputs.append((file, String(decoding: data, as: UTF8.self)))
        }
        let merged: SummaryMerge.Merged
        do { merged = try SummaryMerge.merge(inputs) } catch {
            printError("skbdiff merge: \(error.description)")
            throw ExitCode(2)
        }
        print(merged.json)
        if merged.divergences > 0 { throw ExitCode(1) }
    }
}
