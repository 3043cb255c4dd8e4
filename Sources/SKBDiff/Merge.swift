import Foundation

/// Adding up the `--json` summaries of a campaign's shards (`skbdiff --shard K/N --json`) into the
/// summary of the whole campaign, with the same keys: the counts are sums, the findings are listed in
/// shard order, `elapsed_seconds` is the longest shard's (the wall time of shards run side by side),
/// and `shard` is `1/1` with `merged_shards` saying how many were added up. Shards of different
/// seeds, targets, comparisons or campaigns, a shard given twice, or one missing are refused.
public enum SummaryMerge {
    public struct Failure: Error, CustomStringConvertible {
        public var file: String
        public var message: String
        public var description: String { file.isEmpty ? message : "\(file): \(message)" }
    }

    /// The keys every shard must agree on (they say which campaign it belongs to).
    static let identity = ["seed", "arch", "config", "cache_line", "max_ops", "campaign_iterations", "comparison"]
    /// Counts that add up.
    static let sums = ["iterations", "operations", "divergences", "reruns", "nonlinear_sequences"]
    static let nestedSums = ["quirks", "op_counts", "outcome_counts", "offptr_pairs", "targets"]

    /// The merged summary, as JSON text, and its divergence count.
    public struct Merged {
        public var json: String
        public var divergences: UInt64
    }

    /// `inputs` are (file name, contents) pairs.
    public static func merge(_ inputs: [(file: String, text: String)]) throws(Failure) -> Merged {
        guard !inputs.isEmpty else { throw Failure(file: "", message: "expected at least one JSON summary") }
        var shards: [(file: String, index: Int, count: Int, object: [String: Any])] = []
        for (file, text) in inputs {
            guard let data = text.data(using: .utf8),
                  let any = try? JSONSerialization.jsonObject(with: data),
                  let object = any as? [String: Any]
            else { throw Failure(file: file, message: "expected one JSON object, as 'skbdiff --json' prints") }
            guard let shard = object["shard"] as? String else { throw missing("shard", in: file) }
            let parts = shard.split(separator: "/").map { Int($0) }
            guard parts.count == 2, let k = parts[0], let n = parts[1], 1 <= k, k <= n else {
                throw Failure(file: file, message: "expected \"shard\" as \"K/N\" with 1 <= K <= N, found \"\(shard)\"")
            }
            for key in identity + sums + nestedSums + ["findings", "elapsed_seconds", "stopped_early"] where object[key] == nil {
                throw missing(key, in: file)
            }
            shards.append((file, k, n, object))
        }
        let first = shards[0]
        for s in shards.dropFirst() {
            guard s.count == first.count else {
                throw Failure(file: s.file, message: "is a shard of \(s.count), \(first.file) of \(first.count): expected shards of one campaign")
            }
            for key in identity where !same(s.object[key]!, first.object[key]!) {
                throw Failure(file: s.file, message: "has \(key) \(render(s.object[key]!)), \(first.file) has \(render(first.object[key]!)): expected shards of one campaign")
            }
        }
        var byIndex: [Int: String] = [:]
        for s in shards {
            if let other = byIndex[s.index] { throw Failure(file: s.file, message: "is shard \(s.index)/\(s.count), as is \(other)") }
            byIndex[s.index] = s.file
        }
        let missingShards = (1...first.count).filter { byIndex[$0] == nil }
        if !missingShards.isEmpty {
            throw Failure(file: "", message: "shard\(missingShards.count == 1 ? "" : "s") \(missingShards.map { "\($0)/\(first.count)" }.joined(separator: ", ")) missing; expected all \(first.count)")
        }

        shards.sort { $0.index < $1.index }
        var out = first.object
        for key in sums {
            var total: UInt64 = 0
            for s in shards { total += try number(s.object[key]!, key, s.file) }
            out[key] = total
        }
        for key in nestedSums {
            var total: [String: UInt64] = [:]
            for s in shards {
                guard let d = s.object[key] as? [String: Any] else { throw Failure(file: s.file, message: "expected \"\(key)\" to be an object of counts") }
                for (k, v) in d { total[k, default: 0] += try number(v, "\(key).\(k)", s.file) }
            }
            out[key] = total
        }
        // Present only with a kernel tree (every shard of such a campaign has it).
        if shards.contains(where: { $0.object["kernel_compared"] != nil }) {
            var total: [String: UInt64] = [:]
            for s in shards {
                guard let d = s.object["kernel_compared"] as? [String: Any] else {
                    throw Failure(file: s.file, message: "has no \"kernel_compared\" where another shard has: expected shards of one campaign")
                }
                for (k, v) in d { total[k, default: 0] += try number(v, "kernel_compared.\(k)", s.file) }
            }
            out["kernel_compared"] = total
        }
        // Present only with --impl: per external implementation, its counts.
        if shards.contains(where: { $0.object["external_compared"] != nil }) {
            var total: [String: [String: UInt64]] = [:]
            for s in shards {
                guard let d = s.object["external_compared"] as? [String: Any] else {
                    throw Failure(file: s.file, message: "has no \"external_compared\" where another shard has: expected shards of one campaign")
                }
                for (name, v) in d {
                    guard let counts = v as? [String: Any] else {
                        throw Failure(file: s.file, message: "expected \"external_compared.\(name)\" to be an object of counts")
                    }
                    for (k, n) in counts { total[name, default: [:]][k, default: 0] += try number(n, "external_compared.\(name).\(k)", s.file) }
                }
            }
            out["external_compared"] = total
        }
        out["findings"] = shards.flatMap { ($0.object["findings"] as? [Any]) ?? [] }
        // The groups of all shards' findings, as one campaign would give them.
        let items = ((out["findings"] as? [Any]) ?? []).compactMap { f -> FindingGroups.Item? in
            guard let d = f as? [String: Any], let summary = d["summary"] as? String else { return nil }
            return FindingGroups.Item(summary: summary, calls: (d["calls"] as? NSNumber)?.intValue ?? 0, path: d["path"] as? String)
        }
        out["groups"] = FindingGroups.group(items).map(\.json)
        // A campaign with an interrupted shard was interrupted (older shards lack the key).
        out["interrupted"] = shards.contains { ($0.object["interrupted"] as? Bool) == true }
        out["elapsed_seconds"] = shards.map { ($0.object["elapsed_seconds"] as? NSNumber)?.doubleValue ?? 0 }.max() ?? 0
        out["stopped_early"] = shards.contains { ($0.object["stopped_early"] as? Bool) == true }
        out["shard"] = "1/1"
        out["merged_shards"] = first.count
        let data = (try? JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Merged(json: String(decoding: data, as: UTF8.self), divergences: out["divergences"] as? UInt64 ?? 0)
    }

    private static func missing(_ key: String, in file: String) -> Failure {
        Failure(file: file, message: "expected the key \"\(key)\" of a 'skbdiff --json' summary")
    }

    private static func number(_ v: Any, _ key: String, _ file: String) throws(Failure) -> UInt64 {
        guard let n = v as? NSNumber, n.doubleValue >= 0, n.doubleValue == n.doubleValue.rounded() else {
            throw Failure(file: file, message: "expected \"\(key)\" to be a count, found \(render(v))")
        }
        return n.uint64Value
    }

    private static func same(_ a: Any, _ b: Any) -> Bool { render(a) == render(b) }

    private static func render(_ v: Any) -> String {
        if let s = v as? String { return "\"\(s)\"" }
        return "\(v)"
    }
}
