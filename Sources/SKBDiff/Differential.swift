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

        public var explanation: String {
            switch self {
            case .fidelityOffset: return "Swift and C disagree under OFF (NET_SKBUFF_DATA_USES_OFFSET)"
            case .fidelityPointer: return "Swift and C disagree under PTR (pointers)"
            case .representation: return "OFF and PTR disagree outside the catalogue of known quirks"
            }
        }
    }

    /// One implementation's view of the failing step.
    public struct View: Sendable {
        public var name: String
        public var outcome: Outcome?
        public var references: [ReferenceState]
    }

    public var kind: Kind
    /// The index of the failing call in its sequence.
    public var step: Int
    public var call: Call
    public var differences: [FieldDifference]
    public var views: [View]
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

    public init() {}

    /// Empty, keeping the storage.
    mutating func removeAll() {
        calls.removeAll(keepingCapacity: true)
        ran.removeAll(keepingCapacity: true)
        outcomes.removeAll(keepingCapacity: true)
        quirks.removeAll(keepingCapacity: true)
        quirkSet = []
        failure = nil
    }
}

/// Runs calls on every implementation and compares them after every call: Swift against C in the
/// same representation (fidelity), and OFF against PTR (representation divergences, explained by the
/// quirk catalogue or failing).
public final class Differential {
    public let target: Target
    public let implementations: [Implementation]
    /// Indices of the Swift OFF and PTR implementations, and of the (Swift, C) pairs per representation.
    let swiftOff: Int
    let swiftPtr: Int
    let fidelityPairs: [(swift: Int, c: Int, kind: Divergence.Kind)]
    let comparator: RepresentationComparator
    private var views: [[ReferenceState]]
    private var outcomes: [Outcome?]
    private var before: [ReferenceState] = []

    /// The four standard implementations; on i386 the C reference, which models the x86_64 host, is left out.
    public static func standardImplementations(_ target: Target) -> [Implementation] {
        var impls: [Implementation] = [SwiftImplementation<OffsetRepresentation>(target: target),
                                       SwiftImplementation<PointerRepresentation>(target: target)]
        if target.arch == .x86_64 {
            impls += [CImplementation(representation: .offset, target: target),
                      CImplementation(representation: .pointer, target: target)]
        }
        return impls
    }

    /// `implementations` must hold one Swift implementation per representation, and may hold C ones.
    public init(target: Target, implementations: [Implementation]? = nil) {
        self.target = target
        let impls = implementations ?? Differential.standardImplementations(target)
        self.implementations = impls
        swiftOff = impls.firstIndex { $0.name == "swift-off" }!
        swiftPtr = impls.firstIndex { $0.name == "swift-ptr" }!
        var pairs: [(Int, Int, Divergence.Kind)] = []
        if let c = impls.firstIndex(where: { $0.name == "c-off" }) { pairs.append((swiftOff, c, .fidelityOffset)) }
        if let c = impls.firstIndex(where: { $0.name == "c-ptr" }) { pairs.append((swiftPtr, c, .fidelityPointer)) }
        fidelityPairs = pairs
        comparator = RepresentationComparator(
            arch: target.arch,
            truesizeDelta: impls[swiftOff].sizing.skBuff &- impls[swiftPtr].sizing.skBuff)
        views = Array(repeating: [], count: impls.count)
        outcomes = Array(repeating: nil, count: impls.count)
    }

    /// The implementation whose pool decides what the generator may target.
    public var reference: Implementation { implementations[swiftOff] }

    public func reset() {
        for impl in implementations { impl.reset() }
        for i in views.indices { views[i].removeAll(keepingCapacity: true) }
    }

    /// The reference implementation's references as the last call left them (empty after reset).
    public var referenceView: [ReferenceState] { views[swiftOff] }

    /// The reference view, without copying it: what the generator targets.
    func withReferenceView<T>(_ body: (UnsafeBufferPointer<ReferenceState>) -> T) -> T {
        views[swiftOff].withUnsafeBufferPointer(body)
    }

    /// Run a whole sequence from an empty pool.
    public func run(_ calls: [Call], trace: ((Int, Call, [Divergence.View]) -> Void)? = nil) -> SequenceResult {
        reset()
        var result = SequenceResult()
        var comparing = true
        for call in calls {
            if !step(call, &result, comparing: &comparing, trace: trace) { break }
        }
        return result
    }

    /// Run one call on every implementation and compare. Returns false when the sequence must stop
    /// (a failure was recorded in `result`).
    @discardableResult
    public func step(_ call: Call, _ result: inout SequenceResult, comparing: inout Bool,
                     trace: ((Int, Call, [Divergence.View]) -> Void)? = nil) -> Bool {
        let index = result.calls.count
        // The reference view of the previous call is this call's "before"; the buffers swap, so
        // neither is reallocated.
        swap(&before, &views[swiftOff])
        for (i, impl) in implementations.enumerated() {
            outcomes[i] = impl.run(call, pattern: UInt32(truncatingIfNeeded: index))
            impl.snapshot(into: &views[i])
        }
        result.calls.append(call)
        result.ran.append(outcomes[swiftOff] != nil)
        result.outcomes.append(outcomes[swiftOff])
        if let trace { trace(index, call, currentViews()) }

        for pair in fidelityPairs {
            let diffs = exactDifferences((outcomes[pair.swift], views[pair.swift]), (outcomes[pair.c], views[pair.c]))
            if !diffs.isEmpty {
                result.failure = Divergence(kind: pair.kind, step: index, call: call, differences: diffs, views: currentViews())
                return false
            }
        }
        guard comparing else { return true }
        switch comparator.compare(call: call, before: before, off: (outcomes[swiftOff], views[swiftOff]),
                                  ptr: (outcomes[swiftPtr], views[swiftPtr])) {
        case .agree:
            break
        case let .quirks(met):
            let new = met.subtracting(result.quirkSet)
            if !new.isEmpty {
                result.quirkSet.formUnion(new)
                for q in new.quirks { result.quirks.append(q.id) }
            }
            if met.endsComparison { comparing = false }
        case let .unexplained(diffs):
            result.failure = Divergence(kind: .representation, step: index, call: call, differences: diffs, views: currentViews())
            return false
        }
        return true
    }

    private func currentViews() -> [Divergence.View] {
        implementations.indices.map { Divergence.View(name: implementations[$0].name, outcome: outcomes[$0], references: views[$0]) }
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
