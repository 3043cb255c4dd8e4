/// Shrinks a failing sequence until no single removal of a call, no reshaping (re-pointing a call at
/// an earlier reference, a simpler allocator, two additive calls merged) and no single reduction of
/// an argument still fails the same way (1-minimal). It works on the sequence of operations, as
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
            // Simpler shapes of the same length or shorter: a call pointed at an earlier reference
            // (the producer of its own may then go), an allocator made alloc_skb, two calls of an
            // additive helper on one reference made one with the sum.
            for candidate in Shrinker.reshapings(best.0) where runs < budget {
                if let simpler = attempt(candidate), Shrinker.weight(simpler.0).lexicographicallyPrecedes(Shrinker.weight(best.0)) {
                    best = simpler
                    changed = true
                    break
                }
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

    /// What the shrinker minimises, in order: calls, then the sum of the references targeted (a
    /// call on an earlier reference is simpler), then allocators other than alloc_skb.
    static func weight(_ calls: [Call]) -> [Int] {
        [calls.count,
         calls.reduce(0) { $0 + ($1.op.takesTarget ? $1.target : 0) },
         calls.reduce(0) { $0 + (!$1.op.takesTarget && $1.op != .alloc_skb && $1.op != .fail_next_alloc ? 1 : 0) }]
    }

    /// Helpers whose two calls in a row can be one with the sum of their first arguments.
    static let additive: Set<Operation> = [.skb_reserve, .skb_put, .__skb_put, .skb_push, .__skb_push, .skb_pull, .__skb_pull]

    /// The candidates of one reshaping round (see `shrink`), simplest first.
    static func reshapings(_ calls: [Call]) -> [[Call]] {
        var out: [[Call]] = []
        // Merges.
        for i in calls.indices where additive.contains(calls[i].op) {
            for j in calls.indices.dropFirst(i + 1) where calls[j].op == calls[i].op && calls[j].target == calls[i].target {
                let kind = calls[i].op.info.arguments[0].kind
                let sum = calls[i].arg0 &+ calls[j].arg0
                let merged = kind == .u32 ? Int64(UInt32(truncatingIfNeeded: sum)) : Int64(Int32(truncatingIfNeeded: sum))
                // At the later call's place, then at the earlier one's.
                var late = calls
                late[j].arg0 = merged
                late.remove(at: i)
                out.append(late)
                var early = calls
                early[i].arg0 = merged
                early.remove(at: j)
                out.append(early)
            }
        }
        // Re-pointing: every call on reference t at each earlier one (what a fault needs done to one
        // sk_buff), then each call alone.
        let targets = Set(calls.filter { $0.op.takesTarget }.map(\.target)).sorted()
        for t in targets where t > 0 {
            for r in 0..<t {
                out.append(calls.map { c in
                    var c = c
                    if c.op.takesTarget && c.target == t { c.target = r }
                    return c
                })
            }
        }
        for i in calls.indices where calls[i].op.takesTarget {
            for r in 0..<max(0, calls[i].target) {
                var c = calls
                c[i].target = r
                out.append(c)
            }
        }
        // Simpler allocators: alloc_skb for the same size (dev_alloc_skb's adds NET_SKB_PAD).
        for i in calls.indices {
            let size: Int64
            switch calls[i].op {
            case .alloc_skb_fclone: size = calls[i].arg0
            case .dev_alloc_skb: size = Int64(UInt32(truncatingIfNeeded: calls[i].arg0 &+ 16))
            case .alloc_skb_from_cache: size = calls[i].arg1
            default: continue
            }
            var c = calls
            c[i] = Call(.alloc_skb, target: -1, arg0: size, arg1: 0)
            out.append(c)
        }
        return out
    }
}
