import Foundation
import SKBDiff
import Testing

/// SIGINT and SIGTERM to a real `skbdiff` process: it stops within a second, prints the summary so
/// far marked interrupted, exits 128 + the signal, and leaves only whole findings behind.
@Suite("Interruption", .serialized)
struct InterruptTests {
    /// The skbdiff executable built beside this test bundle.
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skbdiff").path

    func interrupt(_ sig: Int32, arguments: [String], after seconds: Double) throws -> (status: Int32, stdout: String, stopSeconds: Double) {
        guard FileManager.default.isExecutableFile(atPath: InterruptTests.binary) else {
            Issue.record("no skbdiff executable at \(InterruptTests.binary): swift test builds it with the tests")
            return (-1, "", 0)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: InterruptTests.binary)
        process.arguments = arguments
        // Standard output to a file, so nothing it prints can block it.
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("skbdiff-out-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: outPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let out = try #require(FileHandle(forWritingAtPath: outPath))
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: seconds)
        let sent = Date()
        kill(process.processIdentifier, sig)
        process.waitUntilExit()
        let stopped = Date().timeIntervalSince(sent)
        try out.close()
        let data = FileManager.default.contents(atPath: outPath) ?? Data()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), stopped)
    }

    /// Ctrl-C at a terminal signals every process of the foreground group: skbdiff's children (the
    /// i386 workers, an external program) are in groups of their own, so the campaign still ends in
    /// order, exit 130, with every external sequence compared or counted, none failed.
    @Test func ctrlCToTheGroupStopsTheCampaignInOrder() throws {
        guard FileManager.default.isExecutableFile(atPath: InterruptTests.binary) else {
            Issue.record("no skbdiff executable at \(InterruptTests.binary): swift test builds it with the tests")
            return
        }
        try withTemporaryDirectory { dir in
            let program = (dir as NSString).appendingPathComponent("p.sh")
            try """
            read line
            echo "hello version=1 ops=alloc_skb arches=i386 representations=off fields=len"
            while read line; do
              case "$line" in
                target*) echo ready ;;
                *) echo unsupported ;;
              esac
            done
            """.write(toFile: program, atomically: true, encoding: .utf8)
            let outPath = (dir as NSString).appendingPathComponent("out.json")
            // skbdiff as the leader of a process group of its own, standing for a terminal's
            // foreground group, its output in a file.
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
            let arguments = [InterruptTests.binary, "--arch", "i386", "--iterations", "100000000", "--seed", "1", "--json",
                             "--out", dir, "--impl", "p=sh \(program)"]
            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { for a in argv { free(a) } }
            var pid: pid_t = 0
            #expect(posix_spawn(&pid, InterruptTests.binary, &actions, &attributes, argv, environ) == 0)
            Thread.sleep(forTimeInterval: 3)
            kill(-pid, SIGINT)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 130, "status \(status)")
            let data = FileManager.default.contents(atPath: outPath) ?? Data()
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(json["interrupted"] as? Bool == true)
            let external = try #require((json["external_compared"] as? [String: Any])?["p-off"] as? [String: Any])
            #expect(external["failures"] as? Int == 0 && (external["sequences"] as? Int ?? 0) > 0)
        }
    }

    @Test func sigintPrintsTheJSONSoFarAndExits130() throws {
        try withTemporaryDirectory { dir in
            let r = try interrupt(SIGINT, arguments: ["--iterations", "100000000", "--seed", "1", "--json", "--out", dir], after: 1.5)
            #expect(r.status == 130)
            #expect(r.stopSeconds < 1, "stopped \(r.stopSeconds) s after the signal")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(json["interrupted"] as? Bool == true && json["stopped_early"] as? Bool == false)
            let iterations = try #require(json["iterations"] as? UInt64)
            #expect(iterations > 0 && iterations < 100_000_000)
        }
    }

    /// With a planted fault every iteration diverges, so findings are being shrunk and written when
    /// SIGTERM comes: each one listed is on disk, whole.
    @Test func sigtermLeavesWholeFindingsAndExits143() throws {
        try withTemporaryDirectory { dir in
            let r = try interrupt(SIGTERM, arguments: ["--iterations", "100000000", "--seed", "2", "--json", "--out", dir,
                                                       "--mutant", "reserve-len/swift", "--max-divergences", "100000000"], after: 2)
            #expect(r.status == 143)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(json["interrupted"] as? Bool == true)
            let findings = try #require(json["findings"] as? [[String: Any]])
            #expect(!findings.isEmpty)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".skb") }
            #expect(Set(findings.compactMap { ($0["path"] as? String).map { ($0 as NSString).lastPathComponent } }).isSubset(of: Set(files)))
            for file in files {
                let seed = try Replay.load((dir as NSString).appendingPathComponent(file))
                #expect(!seed.calls.isEmpty && seed.divergence != nil, "\(file)")
            }
            // Findings and their pictures, each written whole under its final name: no temporary file.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { ($0.hasSuffix(".skb") || $0.hasSuffix(".svg")) && !$0.contains(".tmp-") })
        }
    }
}
