import Foundation
import Dispatch
@testable import SKBDiff
import Testing

/// The campaign sums block results in block order as they come in, whatever order the jobs finish
/// them in, and holds only the blocks finished ahead of an earlier one.
@Suite("Campaign blocks") struct CampaignBlockTests {
    /// Block b ran 10^b iterations (so a sum tells which blocks it holds) and met `divergences`.
    func counts(_ b: Int, divergences: UInt64 = 0) -> CampaignCounts {
        var c = CampaignCounts()
        c.iterations = [1, 10, 100, 1000][b]
        c.divergences = divergences
        return c
    }

    @Test func outOfOrderBlocksSumInOrder() {
        let state = Campaign.SharedState(blocks: 4)
        for b in [2, 0, 3, 1] { state.finish(block: b, counts: counts(b), findings: [], limit: 10) { _ in } }
        let (total, findings, early) = state.prefix()
        #expect(total.iterations == 1111 && findings.isEmpty && !early)
        #expect(state.totals() == (1111, 0))
    }

    /// The limit is reached at block 1 in block order, although block 2 (also diverging) finished
    /// first: blocks 0 and 1 count, 2 and 3 do not, as with one job.
    @Test func theLimitCountsBlocksInOrder() {
        let state = Campaign.SharedState(blocks: 4)
        state.finish(block: 2, counts: counts(2, divergences: 1), findings: [], limit: 1) { _ in }
        state.finish(block: 0, counts: counts(0), findings: [], limit: 1) { _ in }
        state.finish(block: 1, counts: counts(1, divergences: 1), findings: [], limit: 1) { _ in }
        state.finish(block: 3, counts: counts(3), findings: [], limit: 1) { _ in }
        let (total, _, early) = state.prefix()
        #expect(total.iterations == 11 && total.divergences == 1 && early)
        #expect(state.nextBlock(limit: 1) == nil, "no more blocks are handed out past the limit")
    }

    /// A block that never finished (the limit stopped the jobs first) ends the sum: early.
    @Test func aMissingBlockEndsTheSum() {
        let state = Campaign.SharedState(blocks: 3)
        state.finish(block: 0, counts: counts(0), findings: [], limit: 5) { _ in }
        state.finish(block: 2, counts: counts(2), findings: [], limit: 5) { _ in }
        let (total, _, early) = state.prefix()
        #expect(total.iterations == 1 && early)
    }
}

/// `--max-divergences N` is exact: the first N divergences in iteration order are the findings, and
/// only they are written, whatever the number of jobs.
@Suite("Divergence limit") struct DivergenceLimitTests {
    func campaign(limit: Int, jobs: Int) throws -> (CampaignReport, [String]) {
        var options = CampaignOptions()
        options.iterations = 3000
        options.seed = 1
        options.jobs = jobs
        options.mutant = Mutant(.putGe, .c)
        options.maxDivergences = limit
        let dir = NSTemporaryDirectory() + "skbdiff-limit-\(UUID().uuidString)"
        options.outDirectory = dir
        let r = try Campaign.run(options)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".skb") }.sorted()
        return (r, files)
    }

    @Test(arguments: [1, 3])
    func exactlyTheLimitIsWritten(limit: Int) throws {
        let (one, oneFiles) = try campaign(limit: limit, jobs: 1)
        let (two, twoFiles) = try campaign(limit: limit, jobs: 2)
        #expect(one.findings.count == limit && two.findings.count == limit)
        #expect(one.findings.map(\.iteration) == two.findings.map(\.iteration))
        #expect(oneFiles == twoFiles)
        // Shrunk reproducers of one fault can coincide: never more files than findings, at least one.
        #expect(!oneFiles.isEmpty && oneFiles.count <= limit)
        #expect(one.findings.allSatisfy { $0.path != nil })
        #expect(one.stoppedEarly)
    }
}

/// A stop requested before or during a campaign ends it with what ran, marked interrupted.
@Suite("Campaign stop") struct CampaignStopTests {
    @Test func aStopBeforeTheStartRunsNothing() throws {
        var options = CampaignOptions()
        options.iterations = 5000
        options.stop = CampaignStop()
        options.stop!.request(signal: 2)
        let r = try Campaign.run(options)
        #expect(r.counts.iterations == 0 && r.interrupted && !r.stoppedEarly && options.stop!.signal == 2)
        #expect(Report.summary(r).contains("interrupted after 0 of 5000 iterations"))
    }

    @Test func aStopDuringTheCampaignKeepsTheCountsOfWhatRan() throws {
        var options = CampaignOptions()
        options.iterations = 100_000_000
        options.jobs = 2
        let stop = CampaignStop()
        options.stop = stop
        // A queue of its own (overcommit): the global pool may be busy with the campaign's workers.
        DispatchQueue(label: "stop").asyncAfter(deadline: .now() + 0.3) { stop.request() }
        let r = try Campaign.run(options)
        #expect(r.interrupted && r.counts.iterations > 0 && r.counts.iterations < 100_000_000)
        #expect(r.counts.targetIterations.reduce(0, +) == r.counts.iterations)
    }
}
