import Foundation
import SKBDiff
import SKBuff
import Testing

/// `skbdiff replay --draw`: the text diagrams of fixed sequences against golden files in
/// Tests/SKBDiffTests/Goldens (reviewed by eye when written; regenerate with SKBDIFF_WRITE_GOLDENS=1).
@Suite("Buffer diagrams")
struct DiagramTests {
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

    func drawn(_ seedName: String, colour: Bool = false) throws -> String {
        let path = specs.appendingPathComponent("seeds/\(seedName).skb").path
        let seed = try Replay.load(path)
        let shinfo = Int64(KernelStructs.sharedInfo(arch: seed.target.arch).size)
        var out = ""
        _ = try Replay.run(seed, path: path) { index, call, views in
            out += Diagram.step(index, call, views, shinfo: { _ in shinfo }, colour: colour)
        }
        return out
    }

    @Test(arguments: ["book-tcp-ip", "put-wrap", "offset-out-of-range", "header-cloned-quirk10"])
    func matchesItsGolden(_ seedName: String) throws {
        let text = try drawn(seedName)
        let golden = DiagramTests.goldens.appendingPathComponent("\(seedName).txt")
        if ProcessInfo.processInfo.environment["SKBDIFF_WRITE_GOLDENS"] != nil {
            try text.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(text == expected, "replay --draw of \(seedName).skb changed; review and regenerate the golden")
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 80 }, "fits 80 columns")
    }

    /// The book's figure, hand-checked: after the last call, data 24 (IP header), tail 164, end 256;
    /// mac 10, network 24, transport 44; and the colour form differs from the plain one only by escapes.
    @Test func theBookFigure() throws {
        let text = try drawn("book-tcp-ip")
        let last = try #require(text.components(separatedBy: "[8] ").last)
        #expect(last.contains("headroom 24  data 140  tailroom 92  shared info 312"))
        #expect(last.contains("M mac 10  N network 24  T transport 44"))
        let coloured = try drawn("book-tcp-ip", colour: true)
        #expect(coloured != text && coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression) == text)
    }
}
