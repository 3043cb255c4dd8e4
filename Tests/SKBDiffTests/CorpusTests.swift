import Foundation
import SKBDiff
import SKBuff
import Testing

/// Specs/, found from this file's location so the tests run from any directory.
let specs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Specs")

let corpus: [String] = (try? Replay.files([specs.appendingPathComponent("seeds").path])) ?? []

@Suite("The regression corpus (Specs/seeds)")
struct CorpusTests {
    @Test("every seed file replays: all implementations agree and every stated outcome and quirk holds", arguments: corpus)
    func replay(path: String) throws {
        let seed = try Replay.load(path)
        let verdict = try Replay.run(seed, path: path)
        #expect(verdict.result.failure == nil, "\(verdict.result.failure.map(Report.oneLine) ?? "")")
        #expect(verdict.mismatches.isEmpty, "\(verdict.mismatches)")
    }

    @Test("the corpus has at least 30 sequences and calls every helper")
    func coversHelpers() throws {
        #expect(corpus.count >= 30)
        let used = Set(try corpus.flatMap { try Replay.load($0).calls.map(\.op) })
        let missing = Operation.allCases.filter { !used.contains($0) }.map(\.name)
        #expect(missing.isEmpty, "helpers no seed calls: \(missing)")
    }

    @Test("the corpus meets every catalogued quirk and reaches every outcome kind")
    func coversQuirksAndPanics() throws {
        var quirks = Set<String>()
        var kinds = Set<String>()
        for path in corpus {
            let v = try Replay.run(try Replay.load(path), path: path)
            quirks.formUnion(v.result.quirks)
            for o in v.result.outcomes.compactMap({ $0 }) { kinds.insert(o.kindName) }
        }
        #expect(quirks == Set(Quirk.catalogue.map(\.id)))
        #expect(kinds == ["ok", "NULL", "error", "panic over", "panic under", "BUG", "overflow"])
    }

    @Test("Specs/quirks.txt lists exactly the catalogue the comparator matches")
    func quirkFile() throws {
        let text = try String(contentsOf: specs.appendingPathComponent("quirks.txt"), encoding: .utf8)
        let rows = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map { String($0).trimmingCharacters(in: .whitespaces) }
        }
        #expect(rows.map { $0[0] } == Quirk.catalogue.map(\.id))
        #expect(rows.map { $0[1] } == Quirk.catalogue.map { $0.specNumber.map(String.init) ?? "-" })
        #expect(rows.map { $0[2] } == Quirk.catalogue.map(\.explanation))
    }
}
