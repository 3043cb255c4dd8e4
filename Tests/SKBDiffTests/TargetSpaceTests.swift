import Foundation
import SKBDiff
import SKBuff
import Testing

/// A plain campaign draws each block's target from the seed, so it covers all 24.
@Suite("Every target by default")
struct TargetSpaceTests {
    @Test func theSpaceAndItsPins() {
        #expect(TargetSpace.all.targets.count == 24 && Set(TargetSpace.all.targets).count == 24)
        #expect(Target.all.enumerated().allSatisfy { $0.element.index == $0.offset })
        #expect(TargetSpace(arch: .i386).targets.count == 12 && TargetSpace(arch: .i386).targets.allSatisfy { $0.arch == .i386 })
        #expect(TargetSpace(config: .distro, cacheLine: 64).targets.map(\.description) == ["i386/distro/64", "x86_64/distro/64"])
        let one = Target(arch: .x86_64, config: .typical, cacheLine: 32)
        #expect(TargetSpace(one).pinned == one && TargetSpace(one).target(seed: 9, iteration: 123_456) == one)
        #expect(TargetSpace.all.description == "all/all/all" && TargetSpace(arch: .i386).description == "i386/all/all")
    }

    /// One target per block of 512 iterations, drawn from (seed, block) only; every target comes up.
    @Test func blocksDrawEveryTarget() {
        let space = TargetSpace.all
        var seen = Set<Target>()
        for block in 0..<400 as Range<UInt64> {
            let t = space.target(seed: 1, iteration: block * 512)
            #expect(space.target(seed: 1, iteration: block * 512 + 511) == t)
            seen.insert(t)
        }
        #expect(seen.count == 24)
        let other = (0..<50 as Range<UInt64>).map { space.target(seed: 2, iteration: $0 * 512) }
        #expect(other != (0..<50 as Range<UInt64>).map { space.target(seed: 1, iteration: $0 * 512) })
    }

    /// A finding records the target its iteration ran on, whatever the number of jobs; the summary
    /// counts iterations per target.
    @Test func findingsRecordTheirIterationsTarget() throws {
        var options = CampaignOptions()
        options.iterations = 4096
        options.seed = 3
        options.mutant = Mutant(.putGe, .swift)
        options.maxDivergences = 6
        options.jobs = 1
        let one = try Campaign.run(options)
        options.jobs = 2
        let two = try Campaign.run(options)
        #expect(one.findings.map { $0.seedFile.render() } == two.findings.map { $0.seedFile.render() })
        #expect(!one.findings.isEmpty)
        for f in one.findings {
            #expect(f.seedFile.target == options.targets.target(seed: 3, iteration: f.iteration))
        }
        #expect(one.counts.targetIterations == two.counts.targetIterations)
        #expect(one.counts.targetIterations.reduce(0, +) == one.counts.iterations)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(Report.json(one).utf8)) as? [String: Any])
        #expect(json["arch"] as? String == "all" && json["cache_line"] as? String == "all")
        let perTarget = try #require(json["targets"] as? [String: UInt64])
        #expect(perTarget.count == 24 && perTarget.values.reduce(0, +) == one.counts.iterations)
    }
}
