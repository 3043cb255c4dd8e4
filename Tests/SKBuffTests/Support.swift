import SKBDiff
import SKBuff
import Testing

/// What running a sequence on one representation gave: the outcome of every call and the final
/// state of every reference, after checking that the Swift model and the C reference agreed on
/// every call (on x86_64, where the C reference runs).
struct Run {
    var outcomes: [Outcome?]
    var states: [Int: ReferenceState]

    /// The final state of a reference; a reference that is not there fails the test that asks
    /// (not the whole test process) and reads as an all-zero state.
    subscript(_ reference: Int, sourceLocation: SourceLocation = #_sourceLocation) -> SKBState {
        guard let s = states[reference] else {
            Issue.record("skb\(reference) is not live after the sequence (live: \(states.keys.sorted()))", sourceLocation: sourceLocation)
            return SKBState()
        }
        return s.state
    }
    var last: Outcome? { outcomes.last ?? nil }
}

/// Parse calls written as in a seed file: "skb_put skb0 20". A malformed text fails the test.
func calls(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Call] {
    do {
        return try SeedFile.parse("# skbdiff seed 1\n# target: arch=x86_64\n" + text, file: "inline").calls
    } catch {
        Issue.record("\(error)", sourceLocation: sourceLocation)
        return []
    }
}

/// Run the calls on the Swift model and (on x86_64) the C reference in one representation,
/// expecting them to agree on every call.
func run(_ text: String, _ representation: RepresentationKind, target: Target = Target(),
         sourceLocation: SourceLocation = #_sourceLocation) -> Run {
    let swift: Implementation = representation == .offset
        ? SwiftImplementation<OffsetRepresentation>(target: target)
        : SwiftImplementation<PointerRepresentation>(target: target)
    var impls = [swift]
    if target.arch == .x86_64 { impls.append(CImplementation(representation: representation, target: target)) }
    var outcomes: [Outcome?] = []
    var views = Array(repeating: [ReferenceState](), count: impls.count)
    for (i, call) in calls(text, sourceLocation: sourceLocation).enumerated() {
        let results = impls.map { $0.run(call, pattern: UInt32(i)) }
        for (k, impl) in impls.enumerated() { impl.snapshot(into: &views[k]) }
        for k in impls.indices.dropFirst() {
            #expect(results[k] == results[0], "call \(i) \(call.op.name): \(impls[k].name) gave \(String(describing: results[k])), \(impls[0].name) \(String(describing: results[0]))", sourceLocation: sourceLocation)
            #expect(views[k] == views[0], "call \(i) \(call.op.name): \(impls[k].name) and \(impls[0].name) snapshots differ", sourceLocation: sourceLocation)
        }
        outcomes.append(results[0])
    }
    return Run(outcomes: outcomes, states: Dictionary(uniqueKeysWithValues: views[0].map { ($0.reference, $0) }))
}

/// Both representations.
let bothRepresentations: [RepresentationKind] = [.offset, .pointer]

/// sizeof(struct sk_buff) for a target.
func skbSize(_ rep: RepresentationKind, _ target: Target = Target()) -> UInt32 {
    Sizing(target: target, representation: rep).skBuff
}
