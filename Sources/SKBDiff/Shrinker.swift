/// Shrinks a failing sequence until no single removal of a call and no single reduction of an
/// argument still fails the same way (1-minimal). It works on the sequence of operations, as
/// Hypothesis' stateful testing does, and keeps sequences valid: removing a call that made a
/// reference drops the calls on that reference (SequenceEdit).
public struct Shrinker {
    public let differential: Differential
    /// An upper bound on sequence runs, so a pathological case still ends.
    public var budget = 20_000

    public init(differential: Differential) { self.differential = differential }

    public struct Result {
        public var calls: [Call]
        public var failure: Divergence
        public var runs: Int
    }

    /// `calls` must fail with `kind` when run from an empty pool.
    public func shrink(_ calls: [Call], kind: Divergence.Kind) -> Result? {
        var runs = 0
        func attempt(_ candidate: [Call]) -> ([Call], Divergence)? {
            runs += 1
            let r = differential.run(candidate)
            guard let f = r.failure, f.kind == kind else { return nil }
            // Keep what ran up to the failure, renumbered.
            var trimmed = r
            let keep = f.step + 1
            trimmed.calls = Array(r.calls.prefix(keep))
            trimmed.ran = Array(r.ran.prefix(keep))
            return (SequenceEdit.ranOnly(trimmed), f)
        }
        guard var best = attempt(calls) else { return nil }
        // The canonical form must fail too (it drops calls that did not run).
        if let again = attempt(best.0) { best = again }
        var changed = true
        while changed && runs < budget {
            changed = false
            // Removals, last first: late calls are the likeliest to be unneeded.
            var i = best.0.count - 1
            while i >= 0 && runs < budget {
                if i < best.0.count, let smaller = attempt(SequenceEdit.removing(best.0, [i])), smaller.0.count < best.0.count {
                    best = smaller
                    changed = true
                }
                i -= 1
            }
            // Reductions of each argument towards zero: 0 first, then a binary search for the value
            // nearest zero that still fails, so v - 1 no longer does.
            var ci = 0
            while ci < best.0.count && runs < budget {
                var ai = -1
                while true {
                    ai += 1
                    guard ci < best.0.count, ai < best.0[ci].args.count, runs < budget else { break }
                    let v = best.0[ci].args[ai]
                    let op = best.0[ci].op
                    if v == 0 { continue }
                    func trying(_ value: Int64) -> Bool {
                        guard ci < best.0.count, best.0[ci].op == op, ai < best.0[ci].args.count else { return false }
                        var c = best.0
                        c[ci].args[ai] = value
                        guard let smaller = attempt(c), smaller.0.count <= best.0.count else { return false }
                        let sameShape = smaller.0.count == best.0.count
                        best = smaller
                        changed = true
                        return sameShape
                    }
                    var passing: Int64 = 0
                    var failing = v
                    let shape = best.0.count
                    if trying(0) || best.0.count != shape { continue }
                    while abs(failing - passing) > 1 && runs < budget {
                        let mid = passing + (failing - passing) / 2
                        let before = best.0.count
                        if trying(mid) {
                            failing = mid
                        } else if best.0.count != before {
                            break
                        } else {
                            passing = mid
                        }
                    }
                }
                ci += 1
            }
        }
        return Result(calls: best.0, failure: best.1, runs: runs)
    }
}
