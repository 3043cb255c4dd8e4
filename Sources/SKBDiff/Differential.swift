import Foundation
import CSKBuff
import SKBuff

/// A disagreement that fails a run.
public struct Divergence: Sendable {
    public enum Kind: String, Sendable {
        /// Swift against C under OFF: a fidelity bug.
        case fidelityOffset = "fidelity-off"
        /// Swift against C under PTR: a fidelity bug.
        case fidelityPointer = "fidelity-ptr"
        /// OFF against PTR, outside the quirk catalogue.
        case representation
        /// Allocations left after the final free of every reference.
        case leak
        /// Swift against a kernel tree's own code under OFF (`--kernel-tree`, Specs/kernel.md).
        case kernelOffset = "kernel-off"
        /// Swift against a kernel tree's own code under PTR.
        case kernelPointer = "kernel-ptr"
        /// An external implementation (`--impl`, Specs/protocol.md) against the Swift model of its
        /// representation, where the built-in implementations agree.
        case external

        public var explanation: String {
            switch self {
            case .fidelityOffset: return "Swift and C disagree under OFF (NET_SKBUFF_DATA_USES_OFFSET)"
            case .fidelityPointer: return "Swift and C disagree under PTR (pointers)"
            case .representation: return "OFF and PTR disagree outside the catalogue of known quirks"
            case .leak: return "allocations stay live after every reference was freed"
            case .kernelOffset: return "the Swift model and the kernel tree's own code disagree under OFF"
            case .kernelPointer: return "the Swift model and the kernel tree's own code disagree under PTR"
            case .external: return "an external implementation (--impl) disagrees with the Swift model, which the built-in implementations agree with"
            }
        }
    }

    /// One implementation's view of the failing step.
    public struct View: Sendable {
        public var name: String
        public var representation: RepresentationKind
        public var outcome: Outcome?
        public var references: [ReferenceState]
        /// The frags of the references that have them, where the implementation can tell (the
        /// snapshot holds only their digest), for the report.
        public var frags: [Int: [FragDescriptor]] = [:]
        /// The implementation lacks one of the sequence's operations so far (Specs/kernel.md): it ran
        /// nothing from that call on, and is not compared.
        public var lacking = false
        /// An external implementation's view: each reference's fields as the program gave them (the
        /// fields its hello named), and its reply as sent. nil for the built-in implementations.
        public var given: [Int: [String: String]]?
        public var reply: String?
    }

    public var kind: Kind
    /// The index of the failing call in its sequence.
    public var step: Int
    public var call: Call
    public var differences: [FieldDifference]
    public var views: [View]
}

/// One frag as a report shows it: the page's id, the frag's range in the page, the page's count (nil:
/// the page is no longer live).
public struct FragDescriptor: Hashable, Sendable, CustomStringConvertible {
    public var page: UInt32
    public var offset: UInt32
    public var size: UInt32
    public var count: Int32?

    public init(page: UInt32, offset: UInt32, size: UInt32, count: Int32?) {
        self.page = page
        self.offset = offset
        self.size = size
        self.count = count
    }

    public var description: String {
        "page \(page) [\(offset), \(UInt64(offset) + UInt64(size))) " + (count.map { "count \($0)" } ?? "freed")
    }
}

/// What running one sequence found.
public struct SequenceResult: Sendable {
    /// The calls in order; `ran[i]` is false for a call whose target could not take it.
    public var calls: [Call] = []
    public var ran: [Bool] = []
    /// The reference implementation's outcome of every call that ran.
    public var outcomes: [Outcome?] = []
    public var failure: Divergence?
    /// The catalogued quirks met, by id, in the order first met.
    public var quirks: [String] = []
    var quirkSet: QuirkSet = []
    /// A touched-mode mismatch re-ran the sequence in `.full` (this is that run's result).
    public var rerun = false
    /// Over the calls that ran: live (or frozen) references after each call, and of them those whose
    /// OFF and PTR states were still compared (not excluded by a quirk), and those that the rule before
    /// per-reference exclusion (one ending quirk ends OFF/PTR comparison for the whole sequence) would
    /// have compared.
    public var livePairs: UInt64 = 0
    public var offPtrPairs: UInt64 = 0
    public var offPtrPairsPerSequence: UInt64 = 0
    /// An implementation lacked one of the sequence's operations (a kernel tree: alloc_skb_from_cache)
    /// and compared none of it (the touched comparison) or none from that call on (the full one).
    public var lacking = false
    /// A kernel tree's code was among the implementations.
    public var kernel = false
    /// Per external implementation of the Differential: the calls it answered and compared, whether
    /// that was the whole sequence, and whether it failed (Specs/protocol.md).
    public var externals: [ExternalTally] = []

    public init() {}

    /// Empty, keeping the storage.
    mutating func removeAll() {
        calls.removeAll(keepingCapacity: true)
        ran.removeAll(keepingCapacity: true)
        outcomes.removeAll(keepingCapacity: true)
        quirks.removeAll(keepingCapacity: true)
        quirkSet = []
        failure = nil
        rerun = false
        livePairs = 0
        offPtrPairs = 0
        offPtrPairsPerSequence = 0
        lacking = false
        externals.removeAll(keepingCapacity: true)
    }
}

/// What one external implementation compared of a sequence.
public struct ExternalTally: Sendable, Equatable {
    public var name: String
    public var calls: Int
    public var whole: Bool
    public var failed: Bool
}

/// The kernel workers of `--kernel-tree`, by arch (Differential.kernelWorkers).
public final class KernelWorkers: @unchecked Sendable {
    private let lock = NSLock()
    private var executables: [Arch: String] = [:]

    /// Compare the kernel's code on these arches from now on ([:]: not at all).
    public func set(_ e: [Arch: String]) { lock.withLock { executables = e } }

    func withLock<R>(_ body: ([Arch: String]) -> R) -> R { lock.withLock { body(executables) } }
}

/// A set of pool references (small integers), as bits.
struct ReferenceSet {
    private var words: [UInt64] = [0]
    private(set) var count = 0

    @inline(__always) func contains(_ r: Int) -> Bool {
        r >= 0 && r >> 6 < words.count && words[r >> 6] & (1 << UInt64(r & 63)) != 0
    }

    mutating func insert(_ r: Int) {
        guard r >= 0, !contains(r) else { return }
        while r >> 6 >= words.count { words.append(0) }
        words[r >> 6] |= 1 << UInt64(r & 63)
        count += 1
    }

    mutating func removeAll() {
        if count == 0 { return }
        for i in words.indices { words[i] = 0 }
        count = 0
    }
}

/// Runs calls on every implementation and compares them (Specs/snapshot.md, "Comparing"): Swift
/// against C in the same representation (fidelity), and OFF against PTR (representation divergences,
/// explained by the quirk catalogue or failing).
///
/// Two ways to compare. `.full` (replay, the shrinker): after every call, every live reference of
/// every implementation. `.touched` (the campaign): after every call, the references the call can
/// have changed (its target before and after, what it produced, and the references sharing the
/// target's data buffer or fclone pair, as the reference implementation sees them), then every live
/// reference at the end of the sequence; a mismatch anywhere re-runs the sequence in `.full`, so the
/// report names the first diverging call. In `.touched` the C implementations run whole sequences
/// as batches (BatchRunning, Specs/snapshot.md): the Swift side records what each must report.
public final class Differential {
    public enum Comparison: String, Sendable, CaseIterable {
        case full, touched

        public var name: String { rawValue }
    }

    public let target: Target
    public let implementations: [Implementation]
    /// Indices of the Swift OFF and PTR implementations, and of the (Swift, C) pairs per representation.
    let swiftOff: Int
    let swiftPtr: Int
    /// The two Swift models, held directly for what is read every call (their page epochs).
    private let offModel: Implementation
    private let ptrModel: Implementation
    let fidelityPairs: [(swift: Int, c: Int, kind: Divergence.Kind)]
    /// Implementations that run each call as it comes (the first `immediateCount`: the Swift models),
    /// and those (BatchRunning: the C reference, in this process or in the i386 worker, and a kernel
    /// tree's code) that `.touched` hands whole sequences at the end instead, with the fidelity pairs
    /// each kind takes part in.
    let immediateCount: Int
    let immediatePairs: [(swift: Int, c: Int, kind: Divergence.Kind)]
    let deferredPairs: [(swift: Int, c: Int, kind: Divergence.Kind)]
    /// `.touched` with deferred implementations: the sequences waiting for the batch runners, the
    /// running one's calls last, and those they are running; per deferred pair, the records its
    /// runner must take of them, byte for byte, as its Swift side saw the calls.
    private var pending = EncodedBatch()
    private var inFlight = EncodedBatch()
    private var expected: [ExpectedRecords] = []
    private var expectedInFlight: [ExpectedRecords] = []
    private var drained: [Bool]?
    /// `.touched` keeps sequences whose Swift side passed for `flushDeferred` instead of running the
    /// deferred implementations at the end of each (the campaign sets it).
    public var defersBatches = false
    let comparator: RepresentationComparator
    private var views: [[ReferenceState]]
    private var outcomes: [Outcome?]
    /// Per implementation: a call of this sequence ended in a BUG, panic or overflow there.
    private var died: [Bool]
    /// Per implementation (`.full`): it lacked one of this sequence's operations so far, and runs
    /// none of it from there on; per deferred pair (`.touched`): its worker lacks one of them, and
    /// runs none of the sequence.
    private var lacks: [Bool]
    private var pairLacks: [Bool]
    /// Per implementation: it lacks some operation (asked per call only then).
    private let mayLack: [Bool]
    private var before: [ReferenceState] = []
    /// References whose OFF and PTR states are no longer compared in this sequence (a quirk after
    /// which they part ways met them, or they derive from one that it met).
    private var excluded = ReferenceSet()
    /// An ending quirk was met in this sequence (for the per-sequence figure only).
    private var endedPerSequence = false
    // Touched mode: the references compared after the current call, and each implementation's
    // states of them (implementation-major), with their presence; the target's states before the call.
    private let scratch: Scratch
    private var touched: [Int] = []
    /// `touched` and the scratch states are the previous call's, compared and equal: a target among
    /// them has, before this call, exactly the states they hold (nothing ran in between).
    private var previousTouched = false
    private var entries = RepresentationComparator.Entries()
    /// The external implementations (`--impl`) on this target, each with the index of the Swift
    /// model of its representation; that model's view for comparing them in `.touched`.
    public let externals: [ExternalImplementation]
    private let externalModels: [Int]
    private var externalReplied: [Bool] = []
    /// `.touched`: per external implementation, the calls sent ahead of their replies, each with its
    /// model's outcome and view after it; views whose storage the next calls reuse.
    private var externalQueue: [[ExternalExpectation]] = []
    private var spareViews: [[ReferenceState]] = []

    struct ExternalExpectation {
        var index: Int
        var call: Call
        var outcome: Outcome?
        var view: [ReferenceState]
    }

    /// The four standard implementations. On x86_64 the C reference runs in this process; on i386
    /// in the i386 worker (I386Worker), and without it (said once, with the fix) Swift OFF against
    /// Swift PTR only.
    public static func standardImplementations(_ target: Target, kernel: [Arch: String]? = nil) -> [Implementation] {
        var impls = baseImplementations(target)
        if let executable = kernel.map({ $0[target.arch] }) ?? kernelWorkers.withLock({ $0[target.arch] }) {
            do {
                impls += [try WorkerImplementation(representation: .offset, target: target, executable: executable, family: .kernel),
                          try WorkerImplementation(representation: .pointer, target: target, executable: executable, family: .kernel)]
            } catch {
                FileHandle.standardError.write(Data("skbdiff: the kernel worker \(executable) failed: \(error)\n".utf8))
                exit(70)
            }
        }
        return impls
    }

    /// The kernel workers of `--kernel-tree` (Specs/kernel.md), by arch: set once by the command line
    /// before any Differential is made; every Differential then compares the kernel's code too.
    public static let kernelWorkers = KernelWorkers()

    /// The external programs of `--impl` (Specs/protocol.md): set once by the command line; every
    /// Differential made without its own list compares them on the targets they support.
    public static let externalPrograms = ExternalRegistry()

    /// The four standard implementations without the kernel's.
    static func baseImplementations(_ target: Target) -> [Implementation] {
        var impls: [Implementation] = [SwiftImplementation<OffsetRepresentation>(target: target),
                                       SwiftImplementation<PointerRepresentation>(target: target)]
        switch target.arch {
        case .x86_64:
            impls += [CImplementation(representation: .offset, target: target),
                      CImplementation(representation: .pointer, target: target)]
        case .i386:
            switch I386Worker.executable {
            case let .success(executable):
                do {
                    impls += [try WorkerImplementation(representation: .offset, target: target, executable: executable),
                              try WorkerImplementation(representation: .pointer, target: target, executable: executable)]
                } catch {
                    I386Worker.warnOnce(I386Worker.Unavailable(reason: "the i386 worker \(executable) failed: \(error)",
                                                               fix: "delete it to have it built again"))
                }
            case let .failure(u):
                I386Worker.warnOnce(u)
            }
        }
        return impls
    }

    /// `implementations` must hold one Swift implementation per representation, and may hold C ones.
    /// `externals`: the programs of `--impl` to compare (nil: Differential.externalPrograms).
    public init(target: Target, implementations: [Implementation]? = nil, externals: [ExternalSpec]? = nil) {
        self.target = target
        let impls = implementations ?? Differential.standardImplementations(target)
        self.implementations = impls
        swiftOff = impls.firstIndex { $0.name == "swift-off" }!
        swiftPtr = impls.firstIndex { $0.name == "swift-ptr" }!
        offModel = impls[swiftOff]
        ptrModel = impls[swiftPtr]
        var pairs: [(swift: Int, c: Int, kind: Divergence.Kind)] = []
        if let c = impls.firstIndex(where: { $0.name == "c-off" }) { pairs.append((swiftOff, c, .fidelityOffset)) }
        if let c = impls.firstIndex(where: { $0.name == "c-ptr" }) { pairs.append((swiftPtr, c, .fidelityPointer)) }
        if let k = impls.firstIndex(where: { $0.name == "kernel-off" }) { pairs.append((swiftOff, k, .kernelOffset)) }
        if let k = impls.firstIndex(where: { $0.name == "kernel-ptr" }) { pairs.append((swiftPtr, k, .kernelPointer)) }
        fidelityPairs = pairs
        // The batch runners after the last implementation that is not one (the Swift models, and in
        // tests wrappers of the C reference) are deferred; the rest run each call as it comes.
        let immediate = (impls.lastIndex { !($0 is BatchRunning) } ?? -1) + 1
        immediateCount = immediate
        let isDeferred = impls.indices.map { $0 >= immediate }
        immediatePairs = pairs.filter { !isDeferred[$0.c] }
        deferredPairs = pairs.filter { isDeferred[$0.c] }
        expected = deferredPairs.map { _ in ExpectedRecords() }
        expectedInFlight = deferredPairs.map { _ in ExpectedRecords() }
        comparator = RepresentationComparator(
            arch: target.arch,
            truesizeDelta: impls[swiftOff].sizing.skBuff &- impls[swiftPtr].sizing.skBuff)
        views = Array(repeating: [], count: impls.count)
        outcomes = Array(repeating: nil, count: impls.count)
        died = Array(repeating: false, count: impls.count)
        lacks = Array(repeating: false, count: impls.count)
        mayLack = impls.map { impl in Operation.allCases.contains { !impl.supports($0) } }
        pairLacks = Array(repeating: false, count: deferredPairs.count)
        scratch = Scratch(implementations: impls.count)
        var exts: [ExternalImplementation] = [], models: [Int] = []
        for spec in externals ?? Differential.externalPrograms.all where spec.capabilities.arches.contains(target.arch) {
            for rep in spec.capabilities.representations {
                exts.append(ExternalImplementation(spec: spec, representation: rep, target: target,
                                                   registry: Differential.externalPrograms))
                models.append(rep == .offset ? swiftOff : swiftPtr)
            }
        }
        self.externals = exts
        externalModels = models
        externalReplied = Array(repeating: false, count: exts.count)
        externalQueue = Array(repeating: [], count: exts.count)
    }

    /// Switch a catalogued fault on in the implementations of its side (nil: off everywhere).
    public func switchOn(_ mutant: Mutant?) {
        for impl in implementations { impl.switchOn(mutant.flatMap { $0.side.covers(impl) ? $0.mutation : nil }) }
    }

    /// A kernel tree's code is among the implementations.
    public var comparesKernel: Bool { implementations.contains { $0.name.hasPrefix("kernel-") } }

    /// The campaign's generator for these implementations: an operation one of them lacks (a kernel
    /// tree's alloc_skb_from_cache) is drawn rarely, so that it compares almost every sequence.
    /// `only` restricts the draws to some operations (`--ops`).
    public func generator(maxOps: Int, only: Set<Operation>? = nil) -> Generator {
        var g = Generator(target: target, maxOps: maxOps)
        g.rare = Set(Operation.allCases.filter { op in
            implementations.contains { !$0.supports(op) } || externals.contains { !$0.supports(op) }
        })
        if let only { g.only = only }
        return g
    }

    /// The implementation whose pool decides what the generator may target.
    public var reference: Implementation { implementations[swiftOff] }

    public func reset() {
        for impl in implementations { impl.reset() }
        for i in views.indices { views[i].removeAll(keepingCapacity: true) }
        before.removeAll(keepingCapacity: true)
        excluded.removeAll()
        endedPerSequence = false
        previousTouched = false
        for i in died.indices { died[i] = false }
        for i in lacks.indices { lacks[i] = false }
        for k in pairLacks.indices { pairLacks[k] = false }
        pending.dropUncommitted()
        for k in expected.indices { expected[k].dropUncommitted() }
        for k in externalQueue.indices { recycle(k) }
        for e in externals { e.reset() }
    }

    deinit {
        pending.free()
        inFlight.free()
        for k in expected.indices { expected[k].bytes.free() }
        for k in expectedInFlight.indices { expectedInFlight[k].bytes.free() }
    }

    /// Run a whole sequence from an empty pool. `.touched` compares the end of the sequence too, and
    /// re-runs it in `.full` when it finds a mismatch.
    public func run(_ calls: [Call], comparison: Comparison = .full,
                    trace: ((Int, Call, [Divergence.View]) -> Void)? = nil) -> SequenceResult {
        drainFlush()
        reset()
        var result = SequenceResult()
        for call in calls {
            if !step(call, comparison: comparison, &result, trace: trace) { break }
        }
        finish(comparison: comparison, &result)
        return result
    }

    /// One call, compared as `comparison` says (`trace` sees full steps only). False when the
    /// sequence must stop.
    @inline(__always)
    public func step(_ call: Call, comparison: Comparison, _ result: inout SequenceResult,
                     trace: ((Int, Call, [Divergence.View]) -> Void)? = nil) -> Bool {
        comparison == .full ? step(call, &result, trace: trace) : stepTouched(call, &result)
    }

    /// The end of a sequence: in `.touched` every reference is compared (a mismatch re-runs it in
    /// `.full`); then the leak check.
    public func finish(comparison: Comparison, _ result: inout SequenceResult) {
        if comparison == .touched { finishTouched(&result) } else { checkLeaks(&result) }
        result.kernel = comparesKernel
        if !externals.isEmpty && result.externals.isEmpty {
            result.externals = externals.map { e in
                ExternalTally(name: e.name, calls: e.compared, whole: !e.stopped,
                              failed: e.failure != nil)
            }
        }
    }

    /// Whether sequences end with the leak check (on unless switched off).
    public var checksLeaks = true

    /// On every implementation where the kernel survived the sequence (no BUG, panic or overflow
    /// there; OFF and PTR part ways at some quirks): free every live reference, as its owner finally
    /// would; then nothing may stay allocated (heads, data buffers, cache objects). A `leak`
    /// divergence, at the last call, otherwise. The frees are not calls of the sequence: replay and
    /// the shrinker end the same way.
    public func checkLeaks(_ result: inout SequenceResult) { checkLeaks(&result, deferring: false) }

    /// `deferring`: the deferred implementations run the sequence as a batch, whose reply carries
    /// their leak check (`flushDeferred` compares it).
    func checkLeaks(_ result: inout SequenceResult, deferring: Bool) {
        guard checksLeaks, result.failure == nil, let last = result.calls.last else { return }
        var left: [(name: String, count: Int)] = []
        for (i, impl) in implementations.enumerated() where !died[i] && !lacks[i] {
            if i >= immediateCount && deferring { continue }
            for r in 0..<impl.referenceCount where impl.isRunnable(r) {
                _ = impl.run(Call(.kfree_skb, target: r), pattern: 0)
            }
            let live = impl.liveAllocations
            if live != 0 { left.append((impl.name, live)) }
        }
        guard !left.isEmpty else { return }
        // (A deferred implementation has not run the sequence yet: its batch's reply checks it.)
        for (i, impl) in implementations.enumerated() where i < immediateCount || !deferring { impl.snapshot(into: &views[i]) }
        let field = "allocations left: " + left.map { "\($0.name) \($0.count)" }.joined(separator: ", ")
        result.failure = Divergence(kind: .leak, step: result.calls.count - 1, call: last,
                                    differences: [FieldDifference(reference: -1, field: field)], views: currentViews())
    }

    // MARK: Full comparison

    /// Run one call on every implementation and compare every live reference. Returns false when the
    /// sequence must stop (a failure was recorded in `result`).
    @discardableResult
    public func step(_ call: Call, _ result: inout SequenceResult,
                     trace: ((Int, Call, [Divergence.View]) -> Void)? = nil) -> Bool {
        let index = result.calls.count
        // The reference view of the previous call is this call's "before"; the buffers swap, so
        // neither is reallocated.
        swap(&before, &views[swiftOff])
        let keyBefore = call.op.takesTarget ? implementations[swiftOff].sharing(call.target) : .none
        let pagesBefore = pageEpochs
        previousTouched = false
        for (i, impl) in implementations.enumerated() {
            if mayLack[i] && !lacks[i] && !impl.supports(call.op) {
                lacks[i] = true
                result.lacking = true
            }
            if lacks[i] {
                outcomes[i] = nil
                views[i].removeAll(keepingCapacity: true)
                continue
            }
            outcomes[i] = impl.run(call, pattern: UInt32(truncatingIfNeeded: index))
            if outcomes[i]?.freezes == true { died[i] = true }
            impl.snapshot(into: &views[i])
        }
        record(call, &result)
        if !externals.isEmpty { runExternals(call) }
        if let trace { trace(index, call, currentViews() + externals.indices.filter { externalReplied[$0] }.map { externals[$0].view() }) }

        for pair in fidelityPairs where !lacks[pair.c] {
            let diffs = exactDifferences((outcomes[pair.swift], views[pair.swift]), (outcomes[pair.c], views[pair.c]))
            if !diffs.isEmpty {
                result.failure = Divergence(kind: pair.kind, step: index, call: call, differences: diffs, views: currentViews())
                return false
            }
        }
        if !externals.isEmpty && !compareExternals(call, index: index, &result) { return false }
        guard outcomes[swiftOff] != nil else { return true }
        let targetState = call.op.takesTarget ? before.first { $0.reference == call.target }?.state : nil
        entries.merge(views[swiftOff], views[swiftPtr])
        let produced = call.op.effect == .produces ? implementations[swiftOff].referenceCount - 1 : -1
        _ = findTouched(call, keyBefore, produced, pagesChanged: pageEpochs != pagesBefore)
        if !compareRepresentations(call, targetState, index: index, &result) { return false }
        count(liveReferences: views[swiftOff].count, &result)
        return true
    }

    private func record(_ call: Call, _ result: inout SequenceResult) {
        result.calls.append(call)
        result.ran.append(outcomes[swiftOff] != nil)
        result.outcomes.append(outcomes[swiftOff])
    }

    /// OFF against PTR over `entries`; false (and the failure recorded) when a difference is unexplained.
    /// `touched` holds the references the call can have changed (empty at the end of a sequence).
    private func compareRepresentations(_ call: Call?, _ targetState: SKBState?, index: Int,
                                        _ result: inout SequenceResult) -> Bool {
        switch comparator.compare(call: call, targetBefore: targetState, off: outcomes[swiftOff], ptr: outcomes[swiftPtr],
                                  entries: entries, touched: touched, excluded: &excluded) {
        case .agree:
            return true
        case let .quirks(met):
            note(met, &result)
            if met.endsComparison { endedPerSequence = true }
            return true
        case let .unexplained(diffs):
            result.failure = Divergence(kind: .representation, step: index, call: call ?? result.calls[index],
                                        differences: diffs, views: currentViews())
            return false
        }
    }

    /// Quirks met, in the order first met.
    private func note(_ met: QuirkSet, _ result: inout SequenceResult) {
        let new = met.subtracting(result.quirkSet)
        if !new.isEmpty {
            result.quirkSet.formUnion(new)
            for q in new.quirks { result.quirks.append(q.id) }
        }
    }

    /// The share of (call, reference) pairs compared OFF against PTR (the note's figure).
    @inline(__always)
    private func count(liveReferences n: Int, _ result: inout SequenceResult) {
        result.livePairs &+= UInt64(n)
        if !endedPerSequence { result.offPtrPairsPerSequence &+= UInt64(n) }
        if excluded.count == 0 {
            result.offPtrPairs &+= UInt64(n)
        } else {
            var live = 0
            // The keys findTouched read for this call.
            let keys = scratch.lastKeys
            for r in 0..<implementations[swiftOff].referenceCount where !excluded.contains(r) && keys[r].isLive { live += 1 }
            result.offPtrPairs &+= UInt64(live)
        }
    }

    private func currentViews() -> [Divergence.View] {
        implementations.indices.map { i in
            var view = Divergence.View(name: implementations[i].name, representation: implementations[i].representation,
                                       outcome: outcomes[i], references: views[i])
            view.lacking = lacks[i]
            for r in views[i] where r.state.nrFrags != 0 {
                if let frags = implementations[i].fragDescriptors(of: r.reference) { view.frags[r.reference] = frags }
            }
            return view
        }
    }

    /// Send the call to every external implementation whose Swift model ran it, and compare its
    /// reply with that model's outcome and view (`.full`: the view taken; `.touched`: taken now).
    private func runExternals(_ call: Call) {
        for (k, e) in externals.enumerated() {
            externalReplied[k] = outcomes[externalModels[k]] != nil && e.run(call) == .replied
        }
    }

    private func compareExternals(_ call: Call, index: Int, _ result: inout SequenceResult) -> Bool {
        for (k, e) in externals.enumerated() where externalReplied[k] {
            let diffs = e.differences(outcome: outcomes[externalModels[k]], view: views[externalModels[k]])
            if !diffs.isEmpty {
                result.failure = Divergence(kind: .external, step: index, call: call, differences: diffs,
                                            views: currentViews() + [e.view()])
                return false
            }
        }
        return true
    }

    /// `.touched`: send the call to every external implementation whose model ran it, without
    /// waiting for the reply; keep the model's outcome and view to compare it with when it is read
    /// (a window's worth at a time, and at the end of the sequence). False on a mismatch.
    private func sendExternals(_ call: Call, index: Int, _ result: inout SequenceResult) -> Bool {
        for (k, e) in externals.enumerated() {
            let s = externalModels[k]
            guard outcomes[s] != nil, e.send(call) else { continue }
            var view = spareViews.popLast() ?? []
            implementations[s].snapshot(into: &view)
            externalQueue[k].append(ExternalExpectation(index: index, call: call, outcome: outcomes[s], view: view))
            if e.owed >= ExternalImplementation.window && !drainExternal(k, &result) { return false }
        }
        return true
    }

    /// Read the replies external implementation k owes and compare each with its model's outcome
    /// and view after that call (`.touched`: a mismatch re-runs the sequence in `.full`, which
    /// reports it). False on a mismatch; a reply that stops it ends its comparison.
    private func drainExternal(_ k: Int, _ result: inout SequenceResult) -> Bool {
        defer { recycle(k) }
        let e = externals[k]
        for x in externalQueue[k] {
            guard e.receive() == .replied else { return true }
            if !e.differences(outcome: x.outcome, view: x.view).isEmpty {
                result.failure = Divergence(kind: .external, step: x.index, call: x.call, differences: [], views: [])
                return false
            }
        }
        return true
    }

    private func recycle(_ k: Int) {
        for x in externalQueue[k] { spareViews.append(x.view) }
        externalQueue[k].removeAll(keepingCapacity: true)
    }

    // MARK: Touched comparison

    /// Run one call on every implementation and compare what it can have changed. Returns false when
    /// a mismatch was seen (recorded in `result`; the campaign re-runs the sequence in `.full`).
    @discardableResult
    public func stepTouched(_ call: Call, _ result: inout SequenceResult) -> Bool {
        let index = result.calls.count
        let n = immediateCount
        let ref = implementations[swiftOff]
        let sc = scratch
        let target = call.op.takesTarget ? call.target : -1
        // Before the call: the target's sharing, and every implementation's state of it: the
        // previous call's when it touched the target (already compared), else taken now.
        let keyBefore = target >= 0 ? ref.sharing(target) : .none
        var beforeCompared = false
        if target >= 0 {
            if previousTouched, let j = touched.firstIndex(of: target) {
                let m = touched.count
                for i in 0..<n {
                    sc.before[i] = sc.states[i * m + j]
                    sc.beforePresent[i] = sc.present[i * m + j]
                }
                beforeCompared = true
            } else {
                for i in 0..<n { sc.beforePresent[i] = implementations[i].state(of: target, into: sc.before + i) }
            }
        }
        previousTouched = false
        let pagesBefore = pageEpochs
        for i in 0..<n {
            outcomes[i] = implementations[i].run(call, pattern: UInt32(truncatingIfNeeded: index))
            if outcomes[i]?.freezes == true { died[i] = true }
        }
        record(call, &result)

        let produced = call.op.effect == .produces ? ref.referenceCount - 1 : -1
        let live = findTouched(call, keyBefore, produced, pagesChanged: pageEpochs != pagesBefore)
        // Every implementation's states of them, implementation-major.
        let m = touched.count
        sc.reserve(states: n * m)
        for i in 0..<n {
            let impl = implementations[i]
            for j in 0..<m { sc.present[i * m + j] = impl.state(of: touched[j], into: sc.states + (i * m + j)) }
        }

        if !deferredPairs.isEmpty { log(call, target: target, beforeCompared: beforeCompared, m) }
        for pair in immediatePairs {
            if outcomes[pair.swift] != outcomes[pair.c] || !sc.same(pair.swift, pair.c, m)
                || (target >= 0 && !beforeCompared && !sc.sameBefore(pair.swift, pair.c)) {
                result.failure = Divergence(kind: pair.kind, step: index, call: call, differences: [], views: [])
                return false
            }
        }
        if !externals.isEmpty && !sendExternals(call, index: index, &result) { return false }
        guard outcomes[swiftOff] != nil else { return true }
        // Most calls leave OFF and PTR in agreement, or differ only in never-set headers rebased
        // (a quirk that explains single fields): check that without building the entries. A call on
        // an excluded target excludes what it touched, and its outcome is not compared (as in
        // RepresentationComparator.compare, which sees every other case).
        let targetExcluded = excluded.contains(target)
        if targetExcluded { for r in touched { excluded.insert(r) } }
        var agree = targetExcluded || outcomes[swiftOff] == outcomes[swiftPtr]
        var rebased = false
        if agree {
            let o = sc.states + swiftOff * m, p = sc.states + swiftPtr * m
            for j in 0..<m where !excluded.contains(touched[j]) {
                let po = sc.present[swiftOff * m + j], pp = sc.present[swiftPtr * m + j]
                guard po == pp else { agree = false; break }
                guard po else { continue }
                let d = comparator.explainedDifferences(o[j], p[j])
                if d.mask != 0 { agree = false; break }
                rebased = rebased || d.rebased
            }
        }
        if agree && rebased { note(.unsetHeaderRebased, &result) }
        if !agree {
            entries.set(touched, sc, off: swiftOff, ptr: swiftPtr, stride: m)
            let targetState = target >= 0 && sc.beforePresent[swiftOff] ? sc.before[swiftOff].state : nil
            if !compareRepresentations(call, targetState, index: index, &result) { return false }
        }
        count(liveReferences: live, &result)
        previousTouched = true
        return true
    }

    /// The Swift models' page epochs, OFF's and PTR's: a call that moves a page count in either (they
    /// part ways after some quirks) can have changed every reference with frags.
    private var pageEpochs: PageEpochs { PageEpochs(off: offModel.pageEpoch, ptr: ptrModel.pageEpoch) }

    private struct PageEpochs: Equatable {
        var off: UInt64
        var ptr: UInt64
    }

    /// Into `touched`, in order: the references the call can have changed, as the reference
    /// implementation sees them: its target, what it produced, and every reference sharing the
    /// target's data buffer or fclone pair before or after the call (or the produced one's), and,
    /// when the call moved a page count or a frag, every reference with frags. Returns how many
    /// references are live.
    private func findTouched(_ call: Call, _ keyBefore: SharingKey, _ produced: Int, pagesChanged: Bool) -> Int {
        let ref = implementations[swiftOff]
        let target = call.op.takesTarget ? call.target : -1
        let count = ref.referenceCount
        let keys = scratch.keys(ref)
        let keyAfter = target >= 0 ? keys[target] : .none
        let keyProduced = produced >= 0 ? keys[produced] : .none
        touched.removeAll(keepingCapacity: true)
        var live = 0
        for r in 0..<count {
            let key = keys[r]
            if key.isLive { live += 1 }
            if r == target || r == produced || key.overlaps(keyBefore) || key.overlaps(keyAfter) || key.overlaps(keyProduced)
                || (pagesChanged && key.isLive && ref.hasFrags(r)) {
                touched.append(r)
            }
        }
        return live
    }

    /// The end of a touched-mode sequence: compare every live reference; on any mismatch (here or at
    /// a call), re-run the calls so far in `.full`, whose result (the first diverging call, or none
    /// when the full comparison explains what the touched one could not) replaces this one.
    public func finishTouched(_ result: inout SequenceResult) {
        previousTouched = false
        // The external implementations' replies still owed.
        for k in externals.indices where result.failure == nil && !drainExternal(k, &result) { break }
        if result.failure == nil {
            for i in 0..<immediateCount { implementations[i].snapshot(into: &views[i]) }
            // The deferred implementations run the sequence as a batch: now (one request), or with
            // many others when the campaign flushes (defersBatches).
            let deferring = !deferredPairs.isEmpty && pending.running
            var same = true
            for pair in immediatePairs where !ReferenceState.same(views[pair.swift], views[pair.c]) { same = false }
            if same {
                entries.merge(views[swiftOff], views[swiftPtr])
                let last = result.calls.count - 1
                let savedOff = outcomes[swiftOff], savedPtr = outcomes[swiftPtr]
                outcomes[swiftOff] = nil
                outcomes[swiftPtr] = nil
                touched.removeAll(keepingCapacity: true)
                same = last < 0 || compareRepresentations(nil, nil, index: last, &result)
                outcomes[swiftOff] = savedOff
                outcomes[swiftPtr] = savedPtr
            }
            if same {
                checkLeaks(&result, deferring: deferring)
                guard deferring else { return }
                // (A leak with deferred implementations is re-run in full, which counts theirs too.)
                if result.failure == nil {
                    if pairLacks.contains(true) { result.lacking = true }
                    defer_()
                    if defersBatches || flushDeferred()[0] { return }
                }
            }
        }
        result = rerunFull(result.calls)
    }

    /// A touched-mode mismatch, here or in a deferred implementation's reply: the sequence again in
    /// `.full`, whose result (the first diverging call, or none) replaces the touched one.
    public func rerunFull(_ calls: [Call]) -> SequenceResult {
        var result = run(calls, comparison: .full)
        result.rerun = true
        return result
    }
}

/// What a batch runner (BatchRunning) must report of the sequences handed to it, as its Swift side
/// saw them: per sequence the records skbref_driver.h lists, in order. The records of the sequence
/// running follow those of the sequences kept.
public struct ExpectedRecords {
    var bytes = RawBuffer()
    /// Per sequence kept, its records' range in `bytes`; both SKBREF_DRIVER_SKIPPED when the runner
    /// lacks an operation of it and must skip it.
    var ranges: [UInt64] = []
    /// Where the running sequence's records start.
    private var start = 0

    /// Sequences kept.
    public var count: Int { ranges.count / 2 }

    /// The sequence was not kept: its records go.
    mutating func dropUncommitted() { bytes.count = start }

    /// The sequence was kept, with its records.
    mutating func commit() {
        ranges.append(UInt64(start))
        ranges.append(UInt64(bytes.count))
        start = bytes.count
    }

    /// The sequence was kept, for the runner to skip.
    mutating func skip() {
        bytes.count = start
        ranges.append(SKBREF_DRIVER_SKIPPED)
        ranges.append(SKBREF_DRIVER_SKIPPED)
    }

    mutating func removeAll() {
        bytes.count = 0
        start = 0
        ranges.removeAll(keepingCapacity: true)
    }

    /// Sequence k's records, nil when it is to be skipped.
    func records(_ k: Int) -> UnsafeRawBufferPointer? {
        guard ranges[2 * k] != SKBREF_DRIVER_SKIPPED else { return nil }
        return UnsafeRawBufferPointer(start: bytes.base + Int(ranges[2 * k]), count: Int(ranges[2 * k + 1] - ranges[2 * k]))
    }

    /// What a worker replies for sequence k when it agrees: the digest of its records
    /// (PacketBytes.digest, skbref_digest in C), or SKBREF_WORKER_SKIPPED.
    func digest(_ k: Int) -> UInt64 { records(k).map(PacketBytes.digest) ?? SKBREF_WORKER_SKIPPED }

    /// A struct skbref_worker_state: the reference, and when present its frozen bit and state
    /// (copied from where it lies: this runs for every touched reference of every call).
    mutating func state(_ reference: Int, _ s: UnsafePointer<ReferenceState>?) {
        bytes.store(Int32(reference))
        bytes.store(Int32(s == nil ? 0 : 1))
        bytes.store(Int32(s?.pointee.frozen == true ? 1 : 0))
        bytes.store(Int32(0))
        if let s {
            // The state is ReferenceState's first field.
            bytes.append(UnsafeRawBufferPointer(start: s, count: SKBState.plainSize))
        } else {
            bytes.zeros(SKBState.plainSize)
        }
    }

    /// A struct skbref_worker_outcome as a batch reports it (no sk_buff address, no consumed).
    mutating func outcome(_ o: Outcome?) {
        let r = o.map(CImplementation.result) ?? (kind: 0, value: 0)
        bytes.store(Int32(o == nil ? 0 : 1))
        bytes.store(r.kind)
        bytes.store(r.value)
        bytes.store(UInt32(0))
        bytes.store(Int32(0))
    }
}

extension Differential {
    /// Record the call for the deferred implementations: the call, and what each deferred pair's
    /// worker must report for it as its Swift side saw it (the target's state before the call when it
    /// was not compared already, the outcome, the touched references' states after it).
    fileprivate func log(_ call: Call, target: Int, beforeCompared: Bool, _ m: Int) {
        let before = target >= 0 && !beforeCompared ? target : -1
        pending.append(call, before: before, touched: touched)
        let sc = scratch
        for (k, pair) in deferredPairs.enumerated() {
            if mayLack[pair.c] && !pairLacks[k] && !implementations[pair.c].supports(call.op) { pairLacks[k] = true }
            if pairLacks[k] { continue }
            let s = pair.swift
            if before >= 0 { expected[k].state(before, sc.beforePresent[s] ? UnsafePointer(sc.before + s) : nil) }
            expected[k].outcome(outcomes[s])
            for j in 0..<m { expected[k].state(touched[j], sc.present[s * m + j] ? UnsafePointer(sc.states + (s * m + j)) : nil) }
        }
    }

    private func worker(_ i: Int) -> BatchRunning { implementations[i] as! BatchRunning }

    /// Sequences waiting for `flushDeferred`.
    public var pendingCount: Int { pending.count }

    /// The sequences waiting for `flushDeferred`, as the batch runners will take them: per call,
    /// the references whose states are compared (`bench` times the comparisons the contract makes).
    public var pendingBatches: [WorkerImplementation.Batch] { pending.decoded() }

    /// Keep the sequence for the workers: its calls, and the end of what each must reply (the
    /// references at the end, then the leak check's count: 0, or none when a call froze something).
    fileprivate func defer_() {
        pending.commit(leakCheck: checksLeaks)
        for (k, pair) in deferredPairs.enumerated() {
            if pairLacks[k] {
                // The runner does not run it either (skbref_driver.h, SKBREF_DRIVER_SKIPPED).
                expected[k].skip()
                continue
            }
            let final = views[pair.swift]
            expected[k].bytes.store(UInt32(final.count))
            final.withUnsafeBufferPointer { final in
                for j in final.indices { expected[k].state(final[j].reference, final.baseAddress! + j) }
            }
            expected[k].bytes.store(checksLeaks && !died[pair.swift] ? UInt32(0) : 0xFFFF_FFFF)
            expected[k].commit()
        }
    }

    /// Run every pending sequence on the deferred implementations, one request per worker, and say
    /// for each whether the worker agreed with its Swift side throughout: every call, the references
    /// at the end, and (unless a call froze something there) no allocation left once everything is
    /// freed. A sequence that did not agree is re-run by the caller in `.full`.
    public func flushDeferred() -> [Bool] {
        startFlush()
        return finishFlush()
    }

    /// The first half of `flushDeferred`: hand the pending sequences to the workers, which run them
    /// while this thread goes on with the next sequences' Swift side (nothing else may use the
    /// workers until `finishFlush`).
    public func startFlush() {
        precondition(inFlight.count == 0 && drained == nil, "one flush at a time")
        guard pending.count > 0 else { return }
        swap(&pending, &inFlight)
        pending.removeAll()
        swap(&expected, &expectedInFlight)
        for k in expected.indices { expected[k].removeAll() }
        for (k, pair) in deferredPairs.enumerated() {
            worker(pair.c).startBatches(inFlight.bytes, count: inFlight.count, expected: expectedInFlight[k])
        }
    }

    /// Whether a flush was started and not finished.
    public var flushing: Bool { inFlight.count > 0 }

    /// The second half: the workers' verdicts on the sequences `startFlush` handed them, in order.
    public func finishFlush() -> [Bool] {
        if let v = drained {
            drained = nil
            return v
        }
        return receiveFlush()
    }

    /// Before anything else uses the workers (a sequence re-run in `.full` while a flush is out):
    /// take the flush's verdicts now, for `finishFlush` to return.
    func drainFlush() {
        if flushing { drained = receiveFlush() }
    }

    /// Each runner's verdicts, per sequence: it agreed with its Swift side throughout.
    private func receiveFlush() -> [Bool] {
        guard inFlight.count > 0 else { return [] }
        var ok = Array(repeating: true, count: inFlight.count)
        for pair in deferredPairs {
            let same = worker(pair.c).finishBatches()
            for n in ok.indices where n >= same.count || !same[n] { ok[n] = false }
        }
        inFlight.removeAll()
        for k in expectedInFlight.indices { expectedInFlight[k].removeAll() }
        return ok
    }
}

/// The touched comparison's working memory, kept across calls and sequences: every implementation's
/// states of the references a call touched (implementation-major), with their presence; the
/// target's states before the call; the reference implementation's sharing keys.
final class Scratch {
    let implementations: Int
    private(set) var capacity = 0
    private(set) var states: UnsafeMutablePointer<ReferenceState>
    private(set) var present: UnsafeMutablePointer<Bool>
    let before: UnsafeMutablePointer<ReferenceState>
    let beforePresent: UnsafeMutablePointer<Bool>
    private var keyCapacity = 0
    private var keyStorage: UnsafeMutablePointer<SharingKey>
    /// The keys `keys(_:)` read last.
    var lastKeys: UnsafeMutablePointer<SharingKey> { keyStorage }

    init(implementations n: Int) {
        implementations = n
        capacity = 16 * n
        states = .allocate(capacity: capacity)
        states.initialize(repeating: .zero, count: capacity)
        present = .allocate(capacity: capacity)
        present.initialize(repeating: false, count: capacity)
        before = .allocate(capacity: n)
        before.initialize(repeating: .zero, count: n)
        beforePresent = .allocate(capacity: n)
        beforePresent.initialize(repeating: false, count: n)
        keyCapacity = 64
        keyStorage = .allocate(capacity: keyCapacity)
    }

    deinit {
        states.deallocate()
        present.deallocate()
        before.deallocate()
        beforePresent.deallocate()
        keyStorage.deallocate()
    }

    @inline(__always)
    func reserve(states count: Int) {
        guard count > capacity else { return }
        let grown = max(count, 2 * capacity)
        states.deallocate()
        present.deallocate()
        states = .allocate(capacity: grown)
        states.initialize(repeating: .zero, count: grown)
        present = .allocate(capacity: grown)
        present.initialize(repeating: false, count: grown)
        capacity = grown
    }

    /// The implementation's sharing keys, one per reference.
    @inline(__always)
    func keys(_ impl: Implementation) -> UnsafeMutablePointer<SharingKey> {
        let count = impl.referenceCount
        if count > keyCapacity {
            keyStorage.deallocate()
            keyCapacity = max(count, 2 * keyCapacity)
            keyStorage = .allocate(capacity: keyCapacity)
        }
        impl.sharingKeys(into: keyStorage)
        return keyStorage
    }

    /// Implementations a and b have the same touched states (m references each).
    @inline(__always)
    func same(_ a: Int, _ b: Int, _ m: Int) -> Bool {
        for j in 0..<m {
            let pa = present[a * m + j]
            if pa != present[b * m + j] { return false }
            if pa && states[a * m + j] != states[b * m + j] { return false }
        }
        return true
    }

    @inline(__always)
    func sameBefore(_ a: Int, _ b: Int) -> Bool {
        beforePresent[a] == beforePresent[b] && (!beforePresent[a] || before[a] == before[b])
    }
}

/// Editing sequences without breaking their references: reference r is the one the r-th producing
/// call created, so removing a producer renumbers later targets, and drops the calls on the
/// reference it made (and, in turn, on the references those made).
public enum SequenceEdit {
    public static func removing(_ calls: [Call], _ indices: Set<Int>) -> [Call] {
        var out: [Call] = []
        var removedRefs = Set<Int>()
        var oldRef = 0
        var renumber: [Int: Int] = [:]
        for (i, call) in calls.enumerated() {
            let produces = call.op.effect == .produces
            let orphan = call.op.takesTarget && (removedRefs.contains(call.target) || renumber[call.target] == nil)
            if indices.contains(i) || orphan {
                if produces { removedRefs.insert(oldRef) }
            } else {
                var c = call
                if c.op.takesTarget { c.target = renumber[c.target]! }
                out.append(c)
                if produces { renumber[oldRef] = renumber.count }
            }
            if produces { oldRef += 1 }
        }
        return out
    }

    /// The calls a run actually ran, renumbered.
    public static func ranOnly(_ result: SequenceResult) -> [Call] {
        removing(result.calls, Set(result.ran.indices.filter { !result.ran[$0] }))
    }
}
