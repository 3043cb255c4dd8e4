import Foundation

/// Findings grouped by cause: the kind of divergence (which implementations disagree), the
/// operation at the first diverging call and the fields that differ. A campaign against one fault
/// finds it many times; its user wants one line per cause, with the smallest reproducer.
public struct FindingGroup: Sendable, Equatable {
    public var kind: String
    public var operation: String
    public var fields: [String]
    public var count: Int
    /// The smallest reproducer: fewest calls, then first in iteration (or file) order.
    public var smallestCalls: Int
    public var smallestPath: String?
    public var smallestSummary: String

    /// `fidelity-off skb_put: len, tail`.
    public var cause: String { "\(kind) \(operation): \(fields.joined(separator: ", "))" }

    public var json: [String: Any] {
        var d: [String: Any] = ["kind": kind, "operation": operation, "fields": fields, "count": count,
                                "smallest_calls": smallestCalls, "smallest_summary": smallestSummary]
        if let smallestPath { d["smallest_path"] = smallestPath }
        return d
    }
}

public enum FindingGroups {
    /// One finding as grouping sees it: its one-line summary (Report.oneLine), its length, its file.
    public struct Item: Sendable {
        public var summary: String
        public var calls: Int
        public var path: String?

        public init(summary: String, calls: Int, path: String?) {
            self.summary = summary
            self.calls = calls
            self.path = path
        }
    }

    /// The cause in a one-line summary, `KIND[ NAME] at call N (OP ...): FIELD, ... differ`; nil
    /// when the line has another form.
    public static func cause(of summary: String) -> (kind: String, operation: String, fields: [String])? {
        guard let at = summary.range(of: " at call "), let open = summary.range(of: " (", range: at.upperBound..<summary.endIndex),
              let close = summary.range(of: "): ", range: open.upperBound..<summary.endIndex) else { return nil }
        let kind = String(summary[..<at.lowerBound])
        guard let operation = summary[open.upperBound..<close.lowerBound].split(separator: " ").first.map(String.init) else { return nil }
        var rest = summary[close.upperBound...]
        if rest.hasSuffix(" differ") { rest = rest.dropLast(7) }
        // A leak names its counts; the cause is that allocations were left.
        let fields = kind == "leak" ? ["allocations left"] : rest.components(separatedBy: ", ").filter { !$0.isEmpty }
        return (kind, operation, fields.sorted())
    }

    /// The groups of `items` (in their order), the largest first; items whose summary has no cause
    /// form groups of their own under kind "other".
    public static func group(_ items: [Item]) -> [FindingGroup] {
        var groups: [FindingGroup] = []
        var index: [String: Int] = [:]
        for item in items {
            let c = cause(of: item.summary) ?? (kind: "other", operation: "-", fields: [item.summary])
            let key = "\(c.kind)|\(c.operation)|\(c.fields.joined(separator: ","))"
            if let i = index[key] {
                groups[i].count += 1
                if item.calls < groups[i].smallestCalls {
                    groups[i].smallestCalls = item.calls
                    groups[i].smallestPath = item.path
                    groups[i].smallestSummary = item.summary
                }
            } else {
                index[key] = groups.count
                groups.append(FindingGroup(kind: c.kind, operation: c.operation, fields: c.fields, count: 1,
                                           smallestCalls: item.calls, smallestPath: item.path, smallestSummary: item.summary))
            }
        }
        // Stable: equal counts keep the order first found.
        return groups.enumerated().sorted { a, b in
            a.element.count != b.element.count ? a.element.count > b.element.count : a.offset < b.offset
        }.map(\.element)
    }

    /// One line per group: its count, cause and smallest reproducer.
    public static func render(_ groups: [FindingGroup]) -> String {
        let width = String(groups.map(\.count).max() ?? 0).count
        return groups.map { g in
            let n = String(g.count)
            return "  " + String(repeating: " ", count: max(0, width - n.count)) + n + " x " + g.cause
                + "; smallest \(g.smallestCalls) call\(g.smallestCalls == 1 ? "" : "s")" + (g.smallestPath.map { ": \($0)" } ?? "") + "\n"
        }.joined()
    }

    /// The groups of a findings directory's seed files, by their `# divergence:` line (a file
    /// without one is "other"). A file that cannot be read or parsed is an error naming it.
    public static func read(directory: String) throws(SeedError) -> (groups: [FindingGroup], files: Int) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SeedError(file: directory, line: 0, message: "expected a findings directory (skbdiff --out), found \(FileManager.default.fileExists(atPath: directory) ? "a file" : "nothing")")
        }
        let files = try Replay.files([directory])
        var items: [Item] = []
        for file in files {
            let seed = try Replay.load(file)
            items.append(Item(summary: seed.divergence ?? "no '# divergence:' line", calls: seed.calls.count, path: file))
        }
        return (group(items), files.count)
    }
}
