import Foundation
import Glibc
@testable import SKBDiff
import Testing

/// Workers and external programs are started with their two pipes and nothing else: a child that
/// held a pipe another thread had open (Foundation's Process makes them without close-on-exec) would
/// keep it open for its whole life, and the reader of that pipe would wait for its end forever (a
/// test that ran skbdiff hung so under ASan while other tests started workers).
@Suite("Starting workers")
struct SpawnTests {
    @Test("a child holds no descriptor of skbdiff's but its stdin, stdout and stderr")
    func onlyItsPipes() throws {
        var open: [Int32] = [0, 0]
        #expect(pipe(&open) == 0)
        defer {
            close(open[0])
            close(open[1])
        }
        // The shell lists its own descriptors ($$: not those ls opens for itself).
        let child = try WorkerProcess.spawn("/bin/sh", ["sh", "-c", "ls /proc/$$/fd"]).get()
        close(child.input)
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(child.output, &buffer, buffer.count)
            if n <= 0 { break }
            output.append(contentsOf: buffer[0..<n])
        }
        close(child.output)
        var status: Int32 = 0
        waitpid(child.pid, &status, 0)
        let listed = Set(String(decoding: output, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Int32($0) })
        #expect(listed.isSuperset(of: [0, 1]))
        #expect(!listed.contains(open[0]) && !listed.contains(open[1]), "the child holds \(listed.sorted())")
    }
}
