import Foundation
import SKBuff

/// Human-readable and JSON renderings of findings and summaries.
public enum Report {
    public static func oneLine(_ d: Divergence) -> String {
        let fields = Set(d.differences.map(\.field)).sorted().joined(separator: ", ")
        // An external implementation is named: several may be compared.
        let name = d.kind == .external ? d.views.last { $0.given != nil }.map { " \($0.name)" } ?? "" : ""
        return "\(d.kind.rawValue)\(name) at call \(d.step) (\(SeedFile.render(d.call))): \(fields) differ"
    }

    /// The shrunk sequence and, for the failing call, every implementation's snapshot side by side,
    /// differing fields marked with '*'.
    public static func divergence(_ d: Divergence, calls: [Call]) -> String {
        var out = "\(d.kind.explanation).\n"
        out += "Sequence (\(calls.count) call\(calls.count == 1 ? "" : "s")):\n"
        for (i, c) in calls.enumerated() {
            out += String(format: "  %3d  ", i) + SeedFile.render(c) + (i == d.step ? "    <-- differs here" : "") + "\n"
        }
        out += "\nAfter call \(d.step) (\(SeedFile.render(d.call))):\n"
        out += table(d)
        return out
    }

    static func table(_ d: Divergence) -> String {
        let names = d.views.map(\.name)
        let marked = Set(d.differences.map { "\($0.reference)/\($0.field)" })
        var rows: [[String]] = [["", "field"] + names]
        rows.append([marked.contains("-1/outcome") ? "*" : "", "outcome"] + d.views.map { $0.outcome.map(SeedFile.render) ?? "not run" })
        let refs = Array(Set(d.views.flatMap { $0.references.map(\.reference) + ($0.given.map { Array($0.keys) } ?? []) })).sorted()
        for r in refs {
            let states = d.views.map { v in v.references.first { $0.reference == r } }
            // An external implementation's column: the fields it gave ("-" for those it does not).
            let given = d.views.map { v in v.given.map { $0[r] } }
            rows.append([marked.contains("\(r)/present") ? "*" : "", "skb\(r)"] + zip(states, given).map { s, g in
                if let g { return g == nil ? "(none)" : "" }
                return s == nil ? "(none)" : (s!.frozen ? "frozen" : "")
            })
            let fieldNames = SKBState.fieldNames
            for (fi, f) in fieldNames.enumerated() {
                let values = zip(states, given).map { s, g in
                    if let g { return g?[f] ?? "-" }
                    return s.map { $0.state.fields[fi].value } ?? "-"
                }
                rows.append([marked.contains("\(r)/\(f)") ? "*" : "", "  " + f] + values)
            }
            // The frags behind the digest, where an implementation can tell.
            let frags = d.views.map { $0.frags[r] }
            for k in 0..<(frags.map { $0?.count ?? 0 }.max() ?? 0) {
                rows.append(["", "    frag \(k)"] + frags.map { f in f.flatMap { k < $0.count ? $0[k].description : nil } ?? "-" })
            }
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }

    /// The end-of-run summary: how often each operation ran and each outcome occurred, so a reader
    /// sees the panic paths were reached, the quirks met, and the findings.
    public static func summary(_ r: CampaignReport) -> String {
        let c = r.counts
        let rate = r.elapsedSeconds > 0 ? Double(c.iterations) / r.elapsedSeconds : 0
        var out = "skbdiff: \(c.iterations) iterations, \(c.operations) operations in \(String(format: "%.2f", r.elapsedSeconds)) s"
        out += " (\(Int(rate)) iterations/s); seed 0x\(String(r.options.seed, radix: 16)); target \(r.options.targets)\(r.options.targets.pinned == nil ? " (\(r.options.targets.targets.count) targets)" : "")\n"
        out += "outcomes: " + zip(CampaignCounts.outcomeKinds, c.outcomeCounts).map { "\($0) \($1)" }.joined(separator: ", ") + "\n"
        out += "operations:\n"
        let ops = Operation.allCases.map { ($0.name, c.opCounts[$0.rawValue]) }
        let width = ops.map(\.0.count).max() ?? 0
        for chunk in stride(from: 0, to: ops.count, by: 3) {
            out += "  " + ops[chunk..<min(chunk + 3, ops.count)].map {
                $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: " %9llu", $0.1)
            }.joined(separator: "   ") + "\n"
        }
        out += "known quirks (sequences that met them; not failures):\n"
        for (q, n) in zip(Quirk.catalogue, c.quirkCounts) {
            out += "  \(q.id.padding(toLength: 26, withPad: " ", startingAt: 0)) \(n)\n"
        }
        if c.livePairs > 0 {
            out += String(format: "OFF/PTR compared on %.1f%% of (call, reference) pairs", 100 * Double(c.offPtrPairs) / Double(c.livePairs))
            out += c.reruns > 0 ? "; \(c.reruns) sequence\(c.reruns == 1 ? "" : "s") re-run with full comparison\n" : "\n"
        }
        if c.iterations > 0 {
            out += String(format: "nonlinear skbs (paged frags) in %.1f%% of sequences\n", 100 * Double(c.nonlinearSequences) / Double(c.iterations))
        }
        if c.kernel && c.iterations > 0 {
            out += String(format: "kernel tree's code compared on %.1f%% of sequences (%llu of %llu) and %.1f%% of calls; the rest call an operation it lacks\n",
                          100 * Double(c.kernelSequences) / Double(c.iterations), c.kernelSequences, c.iterations,
                          c.operations > 0 ? 100 * Double(c.kernelCalls) / Double(c.operations) : 0)
        }
        for (name, e) in c.externals.sorted(by: { $0.key < $1.key }) {
            out += "\(name) compared on \(e.sequences) sequences (\(e.whole) whole; the rest stopped at an operation it lacks or a failure), \(e.calls) calls"
            out += e.failures > 0 ? "; \(e.failures) sequence\(e.failures == 1 ? "" : "s") ended by its failure (messages above)\n" : "\n"
        }
        if let only = r.options.operations {
            let left = Operation.allCases.filter { !only.contains($0) }
            out += "operations drawn (--ops): \(only.count) of \(Operation.allCases.count); left out: \(left.map(\.name).joined(separator: ", "))\n"
        }
        if r.stoppedEarly { out += "stopped early after \(r.options.maxDivergences) divergences\n" }
        if r.interrupted { out += "interrupted after \(c.iterations) of \(r.options.range.count) iterations\n" }
        if c.divergences == 0 {
            out += "no divergences: every implementation agreed after every operation\n"
        } else {
            let groups = r.groups
            out += "\(c.divergences) divergence\(c.divergences == 1 ? "" : "s") (\(r.findings.count) shrunk), "
                + "\(groups.count) cause\(groups.count == 1 ? "" : "s") (kind, operation, fields; each finding's .skb and .svg in --out):\n"
            out += FindingGroups.render(groups)
        }
        return out
    }

    /// One JSON object with the keys the interface promises.
    public static func json(_ r: CampaignReport) -> String {
        let c = r.counts
        var obj: [String: Any] = [
            "iterations": c.iterations,
            "operations": c.operations,
            "divergences": c.divergences,
            "quirks": Dictionary(uniqueKeysWithValues: zip(Quirk.catalogue.map(\.id), c.quirkCounts)),
            "op_counts": Dictionary(uniqueKeysWithValues: Operation.allCases.map { ($0.name, c.opCounts[$0.rawValue]) }),
            "outcome_counts": Dictionary(uniqueKeysWithValues: zip(CampaignCounts.outcomeKinds, c.outcomeCounts)),
            "seed": r.options.seed,
            "elapsed_seconds": (r.elapsedSeconds * 1000).rounded() / 1000,
            // A pinned dimension's value; "all" when the campaign drew it per iteration.
            "arch": r.options.targets.arch?.rawValue ?? "all",
            "config": r.options.targets.config?.rawValue ?? "all",
            "cache_line": r.options.targets.cacheLine.map { $0 as Any } ?? "all",
            "targets": Dictionary(uniqueKeysWithValues: r.options.targets.targets.map { ($0.description, c.targetIterations[$0.index]) }),
            "max_ops": r.options.maxOps,
            "shard": "\(r.options.shard.index)/\(r.options.shard.count)",
            "stopped_early": r.stoppedEarly,
            "interrupted": r.interrupted,
            "campaign_iterations": r.options.iterations,
            "comparison": r.options.comparison.name,
            "reruns": c.reruns,
            "nonlinear_sequences": c.nonlinearSequences,
            "offptr_pairs": ["live": c.livePairs, "compared": c.offPtrPairs,
                             "compared_per_sequence_rule": c.offPtrPairsPerSequence],
        ]
        if c.kernel {
            obj["kernel_compared"] = ["sequences": c.kernelSequences, "calls": c.kernelCalls]
        }
        if !c.externals.isEmpty {
            obj["external_compared"] = c.externals.mapValues(\.json)
        }
        if let only = r.options.operations {
            obj["ops"] = Operation.allCases.filter(only.contains).map(\.name)
        }
        obj["groups"] = r.groups.map(\.json)
        obj["findings"] = r.findings.map { f -> [String: Any] in
            var d: [String: Any] = ["iteration": f.iteration, "kind": f.failure.kind.rawValue, "summary": oneLine(f.failure),
                                    "calls": f.seedFile.calls.count]
            if let p = f.path { d["path"] = p }
            return d
        }
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
