import SKBDiff
import SKBuff
import Testing

@Suite("Seed files")
struct SeedFileTests {
    let header = "# skbdiff seed 1\n# target: arch=x86_64 config=minimal cache-line=128\n"

    @Test("render and parse round-trip: calls, target, expectations, quirks, generator")
    func roundTrip() throws {
        let seed = SeedFile(target: Target(arch: .i386, config: .distro, cacheLine: 64),
                            calls: [Call(.alloc_skb, [100]), Call(.skb_reserve, target: 0, [-16]), Call(.skb_clone, target: 0),
                                    Call(.pskb_expand_head, target: 1, [32, 0])],
                            expectations: [1: .ok(0), 3: .error(-12)], quirks: ["put-wrap"], generatorSeed: 42, iteration: 7)
        let parsed = try SeedFile.parse(seed.render(), file: "x.skb")
        #expect(parsed.calls == seed.calls)
        #expect(parsed.target == seed.target)
        #expect(parsed.expectations == seed.expectations)
        #expect(parsed.quirks == ["put-wrap"] && parsed.generatorSeed == 42 && parsed.iteration == 7)
    }

    @Test("comments, blank lines, hex and => outcomes parse")
    func valid() throws {
        let s = try SeedFile.parse(header + "\n# a comment\nalloc_skb 0x64   # trailing\nskb_put skb0 20 => ok 0\nskb_push skb0 1 => panic under\n", file: "v.skb")
        #expect(s.calls.map(\.op) == [.alloc_skb, .skb_put, .skb_push])
        #expect(s.calls[0].args == [100])
        #expect(s.lines == [5, 6, 7])
        #expect(s.expectations == [1: .ok(0), 2: .panicUnder])
    }

    @Test("malformed files name the file, the line and what was expected", arguments: [
        ("alloc_skb 100\n", 1, "expected the header"),
        ("# skbdiff seed 2\n", 1, "expected seed format version 1"),
        ("# skbdiff seed 1\nalloc_skb 1\n", 2, "expected '# target:"),
        ("# skbdiff seed 1\n# target: arch=arm\n", 2, "arch expected i386 or x86_64"),
        ("HEADERskb_frobnicate skb0\n", 3, "unknown helper 'skb_frobnicate'"),
        ("HEADERalloc_skb\n", 3, "alloc_skb expected size (unsigned int), found 0 arguments"),
        ("HEADERalloc_skb 4294967296\n", 3, "size is unsigned int, expected 0...4294967295"),
        ("HEADERalloc_skb 1\nskb_reserve skb0 2147483648\n", 4, "len is int"),
        ("HEADERalloc_skb 1\nskb_put skb1 3\n", 4, "targets skb1, but only 1 reference exists here (skb0)"),
        ("HEADERalloc_skb 1\nalloc_skb 2\nskb_put skb2 3\n", 5, "targets skb2, but only 2 references exist here (skb0 to skb1)"),
        ("HEADERskb_put skb3 3\n", 3, "targets skb3, but no reference exists here yet"),
        ("HEADERalloc_skb 1\nskb_put 3\n", 4, "expected its target as skbN first"),
        ("HEADERalloc_skb twelve\n", 3, "size expected an integer, found 'twelve'"),
        ("HEADERalloc_skb 1 => maybe\n", 3, "expected an outcome"),
        ("HEADERalloc_skb 1 => BUG oops\n", 3, "expected a BUG check"),
        ("# skbdiff seed 1\n# target: arch=x86_64\n# quirks: nope\n", 3, "unknown quirk 'nope'"),
        ("HEADERalloc_skb 1 | skb1 len=0\n", 3, "expected fields of skb1, but only 1 reference exists after this call"),
        ("HEADERalloc_skb 1 | skb0 lenn=0\n", 3, "expected field=value with a snapshot field"),
        ("HEADERalloc_skb 1 | skb0 len=zero\n", 3, "len expected an integer or one of unset, wild, none"),
        ("HEADERalloc_skb 1 | skb0 len=1/2/3\n", 3, "(OFF/PTR when they differ), found '1/2/3'"),
        ("HEADERalloc_skb 1 | skb0\n", 3, "expected field=value after skb0"),
        ("HEADERalloc_skb 1 | len=1\n", 3, "expected 'skbN field=value ...' after '|'"),
    ])
    func malformed(text: String, line: Int, message: String) {
        let full = text.replacingOccurrences(of: "HEADER", with: header)
        do {
            _ = try SeedFile.parse(full, file: "bad.skb")
            Issue.record("parsed a malformed file")
        } catch {
            #expect(error.file == "bad.skb" && error.line == line, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("bad.skb:\(line): "))
        }
    }

    @Test("replay refuses a call on a freed reference, naming its line")
    func freedTarget() throws {
        let seed = try SeedFile.parse(header + "alloc_skb 1\nkfree_skb skb0\nskb_put skb0 1\n", file: "f.skb")
        #expect(throws: SeedError.self) { try Replay.run(seed, path: "f.skb") }
        do { _ = try Replay.run(seed, path: "f.skb") } catch { #expect(error.line == 5 && error.message.contains("freed")) }
    }

    @Test("expected fields round-trip, and replay checks them on every implementation in its representation")
    func stateExpectations() throws {
        let text = header + "alloc_skb 100 => ok 0 | skb0 end=128 truesize=320/336 mac_header=0/unset digest=0x1 | skb0 frozen=0\n"
        let seed = try SeedFile.parse(text, file: "f.skb")
        let e = try #require(seed.stateExpectations[0])
        #expect(e.count == 2 && e[0].reference == 0 && e[0].fields.map(\.name) == ["end", "truesize", "mac_header", "digest"])
        #expect(e[0].fields[1].off == .int(320) && e[0].fields[1].ptr == .int(336))
        #expect(e[0].fields[2].off == .int(0) && e[0].fields[2].ptr == .word("unset"), "a never-set header: offset 0 under OFF, NULL under PTR")
        #expect(e[0].rendered == "skb0 end=128 truesize=320/336 mac_header=0/unset digest=0x1")
        let again = try SeedFile.parse(seed.render(), file: "f.skb")
        #expect(again.stateExpectations == seed.stateExpectations)

        // The digest of no bytes is not 1: every implementation reports it; truesize and end hold.
        let v = try Replay.run(seed, path: "f.skb")
        #expect(v.mismatches.count == 4)
        #expect(v.mismatches.allSatisfy { $0.hasPrefix("f.skb:3: ") && $0.contains("skb0 digest expected 0x1, got 0x") })
        #expect(Set(v.mismatches.map { $0.split(separator: ":")[2] }) == [" swift-off", " swift-ptr", " c-off", " c-ptr"])

        // Written the wrong way round, truesize fails under both representations.
        let swapped = try SeedFile.parse(header + "alloc_skb 100 | skb0 truesize=336/320\n", file: "s.skb")
        let w = try Replay.run(swapped, path: "s.skb")
        #expect(w.mismatches.filter { $0.contains("truesize expected 336, got 320") }.count == 2)
        #expect(w.mismatches.filter { $0.contains("truesize expected 320, got 336") }.count == 2)
    }

    @Test("an expectation that does not hold is reported with its line")
    func expectationMismatch() throws {
        let seed = try SeedFile.parse(header + "alloc_skb 100\nskb_put skb0 200 => ok 0\n", file: "e.skb")
        let v = try Replay.run(seed, path: "e.skb")
        #expect(!v.agrees)
        #expect(v.mismatches == ["e.skb:4: expected ok 0, got panic over"])
    }
}
