import CSKBuff
@testable import SKBDiff
import SKBuff
import Testing

/// The one driver of every C implementation (CReference/include/skbref_driver.h): in the campaign the
/// C reference runs whole sequences as batches and each record it takes is compared with the record
/// the Swift side expects of it.
@Suite("The C driver's batches")
struct DriverTests {
    static let target = Target(arch: .x86_64, config: .minimal, cacheLine: 128)
    let calls = [Call(.alloc_skb, [100]), Call(.skb_put, target: 0, [28])]

    /// The batch the touched comparison hands over for `calls`: each call touches skb0, and skb_put's
    /// target was touched by the call before it (no state before the call).
    /// Run `n` copies of the batch on `c`, against `expected` (freed after), and say which agreed.
    func verdicts(_ c: CImplementation, _ n: Int = 1, _ expected: ExpectedRecords) -> [Bool] {
        let batch = WorkerImplementation.Batch.encoded(Array(repeating: oneBatch(), count: n)[...], leakCheck: true)
        defer {
            batch.free()
            expected.bytes.free()
        }
        c.startBatches(batch.bytes, count: n, expected: expected)
        return c.finishBatches()
    }

    func oneBatch() -> WorkerImplementation.Batch {
        var b = WorkerImplementation.Batch()
        b.append(calls[0], before: -1, touched: [0])
        b.append(calls[1], before: -1, touched: [0])
        return b
    }

    /// skb0 after alloc_skb 100 and after skb_put 28, by hand from the rules (x86_64, minimal,
    /// SMP_CACHE_BYTES 128): the data buffer is SKB_DATA_ALIGN(100) = 128 bytes, so end = 128 and
    /// truesize = 128 + sizeof(struct sk_buff); data = tail = head; alloc_skb zeroes the headers,
    /// which under OFF are offsets from head (0: head itself) and under PTR pointers (NULL: unset);
    /// users and dataref 1. skb_put 28 moves tail to 28 and writes the put pattern of call 1 there
    /// (byte k = 157 + k), which the digest covers.
    func byHand(len: UInt32 = 28, _ representation: RepresentationKind = .offset, sizeofSkBuff: UInt32) -> (SKBState, SKBState) {
        let header: HeaderPosition = representation == .offset ? .offset(0) : .unset
        func state(tail: Int64, len: UInt32, digest: UInt64) -> SKBState {
            SKBState(data: 0, tail: tail, end: 128, len: len, dataLen: 0, truesize: 128 + sizeofSkBuff,
                     headroom: 0, tailroom: Int32(128 - tail), users: 1, dataref: 1, cloned: false, nohdr: false,
                     fclone: .unavailable, mac: header, network: header, transport: header, digest: digest)
        }
        let empty = PacketBytes.digest(UnsafeRawBufferPointer(start: nil, count: 0))
        let pattern = (0..<28).map { UInt8((157 + $0) & 255) }
        let put = pattern.withUnsafeBytes { PacketBytes.digest($0) }
        return (state(tail: 0, len: 0, digest: empty), state(tail: 28, len: len, digest: put))
    }

    /// What the C reference must report: per call its outcome (alloc_skb: ok; skb_put: ok, the old
    /// tail 0) and skb0's state; at the end skb0 again; then the leak check's count, 0.
    func expected(_ states: (SKBState, SKBState)) -> ExpectedRecords {
        var e = ExpectedRecords()
        var after = [ReferenceState(reference: 0, frozen: false, state: states.0),
                     ReferenceState(reference: 0, frozen: false, state: states.1)]
        e.outcome(.ok(0))
        e.state(0, &after[0])
        e.outcome(.ok(0))
        e.state(0, &after[1])
        e.bytes.store(UInt32(1))
        e.state(0, &after[1])
        e.bytes.store(UInt32(0))
        e.commit()
        return e
    }

    @Test("the C reference in process takes exactly the records worked out by hand, and a wrong len is seen")
    func byHandRecords() {
        for representation in [RepresentationKind.offset, .pointer] {
            let c = CImplementation(representation: representation, target: Self.target)
            let right = expected(byHand(representation, sizeofSkBuff: c.sizing.skBuff))
            #expect(verdicts(c, 1, right) == [true])
            // The other representation's headers are not these.
            let other = expected(byHand(representation == .offset ? .pointer : .offset, sizeofSkBuff: c.sizing.skBuff))
            #expect(verdicts(c, 1, other) == [false])
            let wrong = expected(byHand(len: 29, representation, sizeofSkBuff: c.sizing.skBuff))
            #expect(verdicts(c, 1, wrong) == [false])
            // The pool is empty afterwards, and the C reference runs calls again from an empty world.
            #expect(c.referenceCount == 0 && c.liveAllocations == 0)
            #expect(c.run(calls[0], pattern: 0) == .ok(0) && c.liveAllocations == 2)
        }
    }

    @Test("several sequences in one batch are judged one by one; one to be skipped that runs does not agree")
    func severalSequences() {
        let c = CImplementation(representation: .offset, target: Self.target)
        let states = byHand(sizeofSkBuff: c.sizing.skBuff)
        var e = ExpectedRecords()
        let one = expected(states), bad = expected(byHand(len: 27, sizeofSkBuff: c.sizing.skBuff))
        for records in [one, bad, one] {
            e.bytes.append(records.records(0)!)
            e.commit()
        }
        one.bytes.free()
        bad.bytes.free()
        e.skip()
        // A worker compares the same records as one digest each: the digests the Swift side expects.
        #expect(e.digest(0) == e.digest(2) && e.digest(0) != e.digest(1) && e.digest(3) == SKBREF_WORKER_SKIPPED)
        #expect(verdicts(c, 4, e) == [true, false, true, false])
    }

    @Test("a fault in the C reference is seen in its batch, and the campaign's re-run reports it at its call")
    func faultInBatch() throws {
        let d = Differential(target: Self.target)
        d.switchOn(Mutant(.putGe, .c))
        let calls = [Call(.alloc_skb, [97]), Call(.skb_put, target: 0, [128])]
        d.defersBatches = true
        let touched = d.run(calls, comparison: .touched)
        // The Swift side agrees with itself: the sequence waits for the C reference's verdict.
        #expect(touched.failure == nil && d.pendingCount == 1)
        #expect(d.flushDeferred() == [false])
        let full = try #require(d.rerunFull(calls).failure)
        #expect(full.kind == .fidelityOffset && full.step == 1)
    }
}
