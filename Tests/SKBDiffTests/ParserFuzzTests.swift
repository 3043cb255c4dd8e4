import Foundation
@testable import SKBDiff
import Testing

/// Hostile seed files: the corpus, mutated a few thousand times with a fixed seed (truncation, byte
/// flips, huge and negative numbers, unknown helpers, binary junk, very long lines). Each either
/// reads and replays, or is refused with the file, a line inside it and what was expected; never a
/// crash. The command line turns a refusal into exit 2 with FILE:LINE:.
@Suite("Seed-file parser under fuzz", .serialized)
struct ParserFuzzTests {
    static let originals: [[UInt8]] = corpus.compactMap { FileManager.default.contents(atPath: $0).map { Array($0) } }

    static func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = bytes
        let words: [String] = ["99999999999999999999", "-1", "-9223372036854775809", "0x", "0xFFFFFFFFFFFFFFFFFF", "4294967296",
                               "-2147483649", "skb_frobnicate", "skb99999999999", "skb-1", "=> BUG nope", "=> ok 1 2", "| skb0",
                               "| skb0 len=1/2/3", "| skb7 len=1", "# target: arch=arm", "# quirks: nope", "# skbdiff seed 2", "=>", "|"]
        for _ in 0..<(1 + rng.below(3)) {
            let at = b.isEmpty ? 0 : rng.below(b.count + 1)
            switch rng.below(7) {
            case 0: b = Array(b.prefix(at))
            case 1: if !b.isEmpty { b[min(at, b.count - 1)] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2: b.insert(contentsOf: Array(" \(words[rng.below(words.count)]) ".utf8), at: at)
            case 3: b.insert(contentsOf: (0..<(1 + rng.below(16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 4: b.insert(contentsOf: Array(String(repeating: rng.chance(50) ? "a" : "skb_put skb0 1 ", count: 2000 + rng.below(8000)).utf8), at: at)
            case 5: b.insert(contentsOf: Array("\n\(words[rng.below(words.count)])\n".utf8), at: at)
            default:
                // A line moved: the calls now come in another order (references used before they exist).
                var lines = b.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                if lines.count > 3 { lines.swapAt(2 + rng.below(lines.count - 2), 2 + rng.below(lines.count - 2)) }
                b = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            }
        }
        return b
    }

    @Test func mutatedSeedFilesAreReadOrRefusedWithTheirLine() throws {
        try #require(ParserFuzzTests.originals.count >= 30)
        var rng = SplitMix64(seed: 0xF022)
        var refused = 0, replayed = 0
        try withTemporaryDirectory { dir in
            for k in 0..<3000 {
                let original = ParserFuzzTests.originals[rng.below(ParserFuzzTests.originals.count)]
                let bytes = ParserFuzzTests.mutate(original, &rng)
                let path = "\(dir)/m\(k).skb"
                FileManager.default.createFile(atPath: path, contents: Data(bytes))
                let lineCount = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
                do {
                    let seed = try Replay.load(path)
                    _ = try Replay.run(seed, path: path)
                    replayed += 1
                } catch let error as SeedError {
                    refused += 1
                    #expect(error.file == path && error.line >= 1 && error.line <= lineCount && !error.message.isEmpty,
                            "mutation \(k): \(error)")
                } catch {
                    Issue.record("mutation \(k): not a SeedError: \(error)")
                }
            }
        }
        // Both paths were taken, many times.
        #expect(refused > 1000 && replayed > 100, "refused \(refused), replayed \(replayed)")
    }

    /// Through the command line: exit 2, and the message starts with FILE:LINE:.
    @Test func theCommandLineExitsTwoWithFileAndLine() throws {
        guard FileManager.default.isExecutableFile(atPath: InterruptTests.binary) else {
            Issue.record("no skbdiff executable at \(InterruptTests.binary)")
            return
        }
        var rng = SplitMix64(seed: 0xF023)
        var checked = 0
        try withTemporaryDirectory { dir in
            while checked < 12 {
                let bytes = ParserFuzzTests.mutate(ParserFuzzTests.originals[rng.below(ParserFuzzTests.originals.count)], &rng)
                let path = "\(dir)/c\(checked).skb"
                FileManager.default.createFile(atPath: path, contents: Data(bytes))
                guard (try? Replay.load(path)) == nil else { continue }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: InterruptTests.binary)
                process.arguments = ["replay", path]
                let err = Pipe()
                process.standardError = err
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                #expect(process.terminationStatus == 2, "\(path): \(text)")
                #expect(text.range(of: "^\(NSRegularExpression.escapedPattern(for: path)):[0-9]+: ", options: .regularExpression) != nil, "\(text)")
                checked += 1
            }
        }
    }
}

/// A seed file is read line by line and refused past its limits, so any file is read in bounded
/// memory (50 MB ones measured by hand: under 30 MB peak).
@Suite("Seed-file limits")
struct SeedFileLimitTests {
    @Test func tooManyCallsAndTooLongALineAreRefusedWithTheirLine() throws {
        try withTemporaryDirectory { dir in
            let header = "# skbdiff seed 1\n# target: arch=x86_64\n"
            let many = dir + "/many.skb"
            FileManager.default.createFile(atPath: many, contents: Data((header + "alloc_skb 1\n"
                + String(repeating: "skb_headroom skb0\n", count: SeedFile.maxCalls)).utf8))
            #expect(throws: SeedError.self) { try Replay.load(many) }
            do { _ = try Replay.load(many) } catch let error as SeedError {
                #expect(error.line == 3 + SeedFile.maxCalls && error.message.contains("at most \(SeedFile.maxCalls) calls"))
            }
            let long = dir + "/long.skb"
            FileManager.default.createFile(atPath: long, contents: Data((header + "# " + String(repeating: "x", count: SeedFile.maxLineBytes) + "\n").utf8))
            do { _ = try Replay.load(long); Issue.record("a line over the limit was read") } catch let error as SeedError {
                #expect(error.line == 3 && error.message.contains("at most \(SeedFile.maxLineBytes) bytes"))
            }
            // Just inside both limits, the file reads.
            let fits = dir + "/fits.skb"
            FileManager.default.createFile(atPath: fits, contents: Data((header + "alloc_skb 1\n"
                + String(repeating: "skb_headroom skb0\n", count: SeedFile.maxCalls - 1)).utf8))
            #expect(try Replay.load(fits).calls.count == SeedFile.maxCalls)
        }
    }
}
