import Foundation
import SKBuff

/// Which implementations a mutant's fault is switched on in.
public enum MutantSide: String, Sendable, CaseIterable {
    case swift, c, both

    /// The model's and the C reference's implementations; a kernel tree's code never takes a fault.
    func covers(_ impl: Implementation) -> Bool {
        switch self {
        case .both: return impl.name.hasPrefix("swift-") || impl.name.hasPrefix("c-")
        case .c: return impl.name.hasPrefix("c-")
        case .swift: return impl.name.hasPrefix("swift-")
        }
    }
}

/// One entry of the mutant catalogue (Specs/mutants.txt): a fault, the side it is planted on, what
/// it breaks, and, for an equivalent mutant, the argument why no run can tell it apart.
public struct Mutant: Sendable, Equatable {
    public var mutation: Mutation
    public var side: MutantSide
    public var summary: String
    public var equivalence: String?
    public var id: String { mutation.id }

    public init(_ mutation: Mutation, _ side: MutantSide, summary: String = "", equivalence: String? = nil) {
        self.mutation = mutation
        self.side = side
        self.summary = summary
        self.equivalence = equivalence
    }
}

public enum MutantCatalogue {
    /// `ID SIDE WHAT IT BREAKS` per line, `#` comments; a description starting `equivalent:` marks an
    /// equivalent mutant and gives the argument.
    public static func parse(_ text: String, file: String) throws(SeedError) -> [Mutant] {
        var out: [Mutant] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.stripped
            if line.isEmpty || line.hasPrefix("#") { continue }
            func fail(_ m: String) -> SeedError { SeedError(file: file, line: n + 1, message: m) }
            let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
            guard words.count == 3 else { throw fail("expected 'ID SIDE what it breaks', found '\(line)'") }
            guard let mutation = Mutation.byID[words[0]] else {
                throw fail("unknown mutant '\(words[0])'; expected one of \(Mutation.allCases.map(\.id).joined(separator: ", "))")
            }
            guard let side = MutantSide(rawValue: words[1]) else { throw fail("side expected swift, c or both, found '\(words[1])'") }
            guard !out.contains(where: { $0.mutation == mutation && $0.side == side }) else {
                throw fail("\(words[0]) \(words[1]) is listed twice")
            }
            let text = words[2].stripped
            let equivalence = text.hasPrefix("equivalent:") ? String(text.dropFirst("equivalent:".count)).stripped : nil
            out.append(Mutant(mutation, side, summary: text, equivalence: equivalence))
        }
        return out
    }

    public static func load(_ path: String) throws(SeedError) -> [Mutant] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SeedError(file: path, line: 0, message: "cannot read the mutant catalogue (expected UTF-8 text)")
        }
        return try parse(text, file: path)
    }
}

/// What running one mutant found.
public struct MutantResult: Sendable {
    public var mutant: Mutant
    /// The campaign's first divergence: iterations run up to and including it, and the first
    /// differing field; the shortest shrunk reproducer among the first `MutantRunner.findings`
    /// divergences. nil when the fuzzer did not run or did not kill it.
    public var fuzzIterations: UInt64?
    public var shrunkOps: Int?
    public var fuzzDifference: String?
    /// The fuzzer's shrunk reproducer.
    public var reproducer: SeedFile?
    /// The first corpus file that fails with the fault on, and what failed first.
    public var corpusFile: String?
    public var corpusDifference: String?
    /// With a kernel tree (`mutants --kernel-tree`): the fault on in the Swift model and the C
    /// reference at once, the campaign's first divergence (iterations up to it, the first differing
    /// field); nil when not run or not killed. `kernelLacks`: the fault is in an operation the tree
    /// lacks, so the kernel cannot catch it.
    public var kernelIterations: UInt64?
    public var kernelDifference: String?
    public var kernelRan = false
    public var kernelLacks = false

    public var killed: Bool { fuzzIterations != nil || corpusFile != nil }
    /// "fuzz", the corpus file, or nil.
    public var killedBy: String? { fuzzIterations != nil ? "fuzz" : corpusFile }
    public var firstDifference: String? { fuzzDifference ?? corpusDifference }

    /// Why this mutant breaks the gate (Specs/mutants.txt), or nil when it holds: a one-sided mutant
    /// dies by the fuzzer within the budget with at most `maxShrunk` calls, a both-sided one by the
    /// corpus; an equivalent one is never killed (else its argument is wrong).
    public func gateFailure(maxShrunk: Int) -> String? {
        if mutant.equivalence != nil {
            if kernelIterations != nil { return "claimed equivalent, but the kernel tree's code kills it" }
            return killed ? "claimed equivalent, but \(killedBy!) kills it" : nil
        }
        if kernelRan && !kernelLacks && kernelIterations == nil {
            return "planted in the model and the C reference at once, the kernel campaign did not kill it within the budget"
        }
        switch mutant.side {
        case .both:
            return corpusFile == nil ? "no corpus file kills it" : nil
        case .swift, .c:
            guard let shrunkOps else { return "the fuzzer did not kill it within the budget" }
            return shrunkOps > maxShrunk ? "its reproducer has \(shrunkOps) calls (at most \(maxShrunk))" : nil
        }
    }
}

public enum MutantRunner {
    /// Divergences a mutant's campaign collects before it stops: a 1-minimal shrink of the first one
    /// can be long where the fuzzer soon finds a shorter way to the same fault.
    public static let findings = 5

    /// Run the corpus (every mutant) and, for a one-sided mutant, a campaign of `options` with the
    /// fault on, stopping after `findings` divergences.
    public static func run(_ mutant: Mutant, options: CampaignOptions, corpus: [(path: String, seed: SeedFile)]) throws -> MutantResult {
        var result = MutantResult(mutant: mutant)
        for (path, seed) in corpus {
            let verdict = try Replay.run(seed, path: path, mutant: mutant)
            if !verdict.agrees {
                result.corpusFile = path
                result.corpusDifference = verdict.result.failure.map(describe) ?? verdict.mismatches.first
                break
            }
        }
        if mutant.side != .both {
            var o = options
            o.mutant = mutant
            o.maxDivergences = findings
            o.outDirectory = nil
            let report = try Campaign.run(o)
            if let first = report.findings.first {
                result.fuzzIterations = first.iteration - o.range.lowerBound + 1
                result.fuzzDifference = describe(first.failure)
                let shortest = report.findings.min { $0.seedFile.calls.count < $1.seedFile.calls.count }!
                result.shrunkOps = shortest.seedFile.calls.count
                result.reproducer = shortest.seedFile
            }
        }
        return result
    }

    /// Faults only an operation a kernel tree lacks can show (alloc_skb_from_cache's).
    public static let lackedByKernel: Set<Mutation> = [.fromCacheTruesize]

    /// With a kernel tree: the fault on in the Swift model and the C reference at once (as a porting
    /// bug made the same way in both), a campaign of `options` (whose kernelWorkers are set) to the
    /// first divergence, which the kernel's code shows. Fills the kernel fields of `result`.
    public static func runKernel(_ result: inout MutantResult, options: CampaignOptions) throws {
        result.kernelRan = true
        result.kernelLacks = lackedByKernel.contains(result.mutant.mutation)
        var o = options
        o.mutant = Mutant(result.mutant.mutation, .both)
        o.maxDivergences = 1
        o.outDirectory = nil
        let report = try Campaign.run(o)
        if let first = report.findings.first {
            result.kernelIterations = first.iteration - o.range.lowerBound + 1
            result.kernelDifference = describe(first.failure)
        }
    }

    /// The first differing field of a divergence: `skb1 truesize`, `outcome`, ...
    static func describe(_ d: Divergence) -> String {
        let first = d.differences.first.map { $0.reference < 0 ? $0.field : "skb\($0.reference) \($0.field)" } ?? "?"
        return "\(first) (\(d.kind.rawValue), at \(d.call.op.name))"
    }
}
