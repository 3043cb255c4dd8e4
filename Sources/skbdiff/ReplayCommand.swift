import ArgumentParser
import Foundation
import SKBDiff
import SKBuff

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay .skb seed files (or directories of them) and print agree or diverge for each.",
        discussion: """
        A seed file is plain text: '# skbdiff seed 1', a '# target: arch=... config=... cache-line=...' \
        line, then one call per line: the helper's name, its target skbN (the N-th sk_buff a call \
        returned), and its integer arguments, optionally followed by '=> OUTCOME' (ok N, NULL, \
        error N, panic over, panic under, BUG NAME, overflow), which replay checks. '# quirks: ID...' \
        states which catalogued quirks the sequence must meet. A malformed file is exit 2 with \
        FILE:LINE: and what was expected there.
        """
    )

    @Argument(help: "Seed files or directories holding them.")
    var paths: [String]

    @Flag(help: "Print every implementation's snapshot after every call.")
    var trace = false

    @Flag(help: """
        After every call, draw each live reference's buffer (Figure 12-7 of the book): headroom, \
        data, tailroom and shared info over one bar, head/data/tail/end and the headers at their \
        offsets, values off the bar as arrows. Colour on a terminal unless NO_COLOR is set.
        """)
    var draw = false

    @Option(help: "Draw the sequence as SVG to this file: one row per step, every live reference's buffer (one seed file).")
    var svg: String?

    @OptionGroup var kernel: KernelTreeOptions

    @OptionGroup var external: ExternalOptions

    func validate() throws {
        if svg != nil && paths.count != 1 { throw ValidationError("--svg draws one seed file; found \(paths.count) paths") }
    }

    func run() throws {
        let files: [String]
        do { files = try Replay.files(paths) } catch { printError(error.description); throw ExitCode(2) }
        if svg != nil && files.count != 1 { printError("--svg draws one seed file; \(paths[0]) holds \(files.count)"); throw ExitCode(2) }
        try kernel.activate(arches: Set(Arch.allCases), quiet: true)
        try external.activate(quiet: true)
        var diverged = 0
        for file in files {
            let verdict: Replay.Verdict
            var svgText: String?
            do {
                let seed = try Replay.load(file)
                if svg != nil {
                    var steps: [(index: Int, call: Call, views: [Divergence.View])] = []
                    verdict = try Replay.run(seed, path: file) { index, call, views in steps.append((index, call, views)) }
                    let shinfo = Int64(KernelStructs.sharedInfo(arch: seed.target.arch).size)
                    let header = ["skbdiff replay \(file)", "target \(seed.target)"]
                    svgText = Diagram.svg(header: header, rows: Diagram.rows(steps), shinfo: shinfo)
                } else if draw {
                    let colour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
                    let shinfo = Int64(KernelStructs.sharedInfo(arch: seed.target.arch).size)
                    verdict = try Replay.run(seed, path: file) { index, call, views in
                        print(Diagram.step(index, call, views, shinfo: { _ in shinfo }, colour: colour))
                    }
                } else if trace {
                    verdict = try Replay.run(seed, path: file) { index, call, views in printStep(index, call, views) }
                } else {
                    verdict = try Replay.run(seed, path: file)
                }
            } catch {
                printError(error.description)
                throw ExitCode(2)
            }
            if let svg, let svgText {
                do { try FindingWriter.writeAtomically(svgText, to: svg) } catch {
                    printError("\(svg): cannot write the SVG: \(error.localizedDescription)")
                    throw ExitCode(2)
                }
            }
            let quirks = verdict.result.quirks.isEmpty ? "" : " (quirks: \(verdict.result.quirks.joined(separator: " ")))"
            if verdict.agrees {
                print("agree    \(file)\(quirks)")
            } else {
                diverged += 1
                print("DIVERGE  \(file)\(quirks)")
                for m in verdict.mismatches { print("  \(m)") }
                if let f = verdict.result.failure {
                    print(Report.divergence(f, calls: verdict.seed.calls).split(separator: "\n", omittingEmptySubsequences: false)
                        .map { "  " + $0 }.joined(separator: "\n"))
                }
            }
        }
        if files.count > 1 { print("\(files.count - diverged) agree, \(diverged) diverge") }
        if diverged > 0 { throw ExitCode(1) }
    }
}

private func printStep(_ index: Int, _ call: Call, _ views: [Divergence.View]) {
    print("[\(index)] \(SeedFile.render(call))")
    for v in views {
        if v.lacking {
            print("    \(v.name): lacks an operation of the sequence so far: not compared")
            continue
        }
        if let reply = v.reply {
            print("    \(v.name) replied: \(reply)")
            continue
        }
        print("    \(v.name): \(v.outcome.map(SeedFile.render) ?? "not run")")
        for r in v.references {
            let fields = r.state.fields.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
            print("      skb\(r.reference)\(r.frozen ? " (frozen)" : ""): \(fields)")
        }
    }
}
