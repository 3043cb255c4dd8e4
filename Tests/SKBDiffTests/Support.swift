import Foundation
import SKBDiff
import SKBuff
import Testing

/// An implementation that forwards everything to another one; subclasses plant faults in `run`.
class Forwarding: Implementation {
    let inner: Implementation

    init(_ inner: Implementation) { self.inner = inner }

    var name: String { inner.name }
    var representation: RepresentationKind { inner.representation }
    var sizing: Sizing { inner.sizing }
    var referenceCount: Int { inner.referenceCount }
    var usableCount: Int { inner.usableCount }
    func usableReference(_ k: Int) -> Int { inner.usableReference(k) }
    func isRunnable(_ reference: Int) -> Bool { inner.isRunnable(reference) }
    func reset() { inner.reset() }
    func snapshot(into out: inout [ReferenceState]) { inner.snapshot(into: &out) }
    func state(of reference: Int, into out: UnsafeMutablePointer<ReferenceState>) -> Bool { inner.state(of: reference, into: out) }
    func sharing(_ reference: Int) -> SharingKey { inner.sharing(reference) }
    func sharingKeys(into keys: UnsafeMutablePointer<SharingKey>) { inner.sharingKeys(into: keys) }
    func switchOn(_ mutation: Mutation?) { inner.switchOn(mutation) }
    var liveAllocations: Int { inner.liveAllocations }
    func fragDescriptors(of reference: Int) -> [FragDescriptor]? { inner.fragDescriptors(of: reference) }
    var pageEpoch: UInt64 { inner.pageEpoch }
    func hasFrags(_ reference: Int) -> Bool { inner.hasFrags(reference) }
    func run(_ call: Call, pattern: UInt32) -> Outcome? { inner.run(call, pattern: pattern) }
}

/// The same short campaign run twice, the second time with `change` applied to its options.
func twoCampaigns(iterations: UInt64 = 1500, seed: UInt64, jobs: Int,
                  _ change: (inout CampaignOptions) -> Void) throws -> (CampaignReport, CampaignReport) {
    var options = CampaignOptions()
    options.iterations = iterations
    options.seed = seed
    options.jobs = jobs
    let first = try Campaign.run(options)
    change(&options)
    return (first, try Campaign.run(options))
}

/// Two campaigns ran the same calls with the same outcomes.
func expectSameCalls(_ a: CampaignReport, _ b: CampaignReport, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.counts.operations == b.counts.operations && a.counts.operations > 0, sourceLocation: sourceLocation)
    #expect(a.counts.opCounts == b.counts.opCounts, sourceLocation: sourceLocation)
    #expect(a.counts.outcomeCounts == b.counts.outcomeCounts, sourceLocation: sourceLocation)
}

/// A scratch directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skbdiff-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(directory)
}
