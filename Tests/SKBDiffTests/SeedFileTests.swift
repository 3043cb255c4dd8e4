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

    @Test("an expectation that does not hold is reported with its line")
    func expectationMismatch() throws {
        let seed = try SeedFile.parse(header + "alloc_skb 100\nskb_put skb0 200 => ok 0\n", file: "e.skb")
        let v = try Replay.run(seed, path: "e.skb")
        #expect(!v.agrees)
        #expect(v.mismatches == ["e.skb:4: expected ok 0, got panic over"])
    }
}
