import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
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

    @Test(arguments: ["book-tcp-ip", "put-wrap", "offset-out-of-range", "header-cloned-quirk10", "paged-pull-across-boundary"])
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

/// The SVG drawings: well-formed XML (Foundation's XMLParser), one group per reference per step.
@Suite("SVG drawings")
struct SVGTests {
    /// Counts the <g class="reference"> groups and collects their steps.
    final class Groups: NSObject, XMLParserDelegate {
        var steps: [Int] = []
        var diffs = 0
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if name == "g", attributes["class"] == "reference" { steps.append(Int(attributes["data-step"] ?? "") ?? -1) }
            if attributes["class"]?.contains("diff") == true { diffs += 1 }
        }
    }

    func parse(_ text: String) throws -> Groups {
        let parser = XMLParser(data: Data(text.utf8))
        let groups = Groups()
        parser.delegate = groups
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        return groups
    }

    @Test(arguments: ["book-tcp-ip", "header-cloned-quirk10", "put-wrap"])
    func aReplayIsOneGroupPerReferencePerStep(_ seedName: String) throws {
        let path = specs.appendingPathComponent("seeds/\(seedName).skb").path
        let seed = try Replay.load(path)
        var steps: [(index: Int, call: Call, views: [Divergence.View])] = []
        _ = try Replay.run(seed, path: path) { steps.append(($0, $1, $2)) }
        let rows = Diagram.rows(steps)
        let groups = try parse(Diagram.svg(header: ["replay"], rows: rows, shinfo: 312))
        #expect(groups.steps == rows.flatMap { row in row.references.map { _ in row.step } })
        // Each step draws every live reference: the Swift OFF view's count, PTR's too where it differs.
        #expect(rows.count == seed.calls.count && rows.allSatisfy { !$0.references.isEmpty })
    }

    /// What a renderer shows: the fields of a reference's title stay apart (their separating spaces
    /// stand between the tspans, in a text that preserves them: a space that leads a tspan is dropped
    /// by rsvg-convert), and the colours have a legend. With Debian's librsvg2-bin (.ci/run installs
    /// it) the picture is also rendered, as a person would look at it.
    @Test func theTitleKeepsItsSpacesAndTheColoursHaveALegend() throws {
        let path = specs.appendingPathComponent("seeds/book-tcp-ip.skb").path
        let seed = try Replay.load(path)
        var steps: [(index: Int, call: Call, views: [Divergence.View])] = []
        _ = try Replay.run(seed, path: path) { steps.append(($0, $1, $2)) }
        let text = Diagram.svg(header: ["replay"], rows: Diagram.rows(steps), shinfo: 312)
        #expect(!text.contains("</tspan><tspan"), "the fields' tspans are separated outside them")
        #expect(text.contains("xml:space=\"preserve\"><tspan>skb0 (swift-off)</tspan>  <tspan>len 0</tspan>  <tspan>truesize"))
        #expect(!text.contains("<tspan>  ") && !text.contains("<tspan class=\"diff\">  "))
        for label in ["headroom", "data", "tailroom", "shared info", "headers", "red: differs"] {
            #expect(text.contains(">\(label)<"), "the legend names \(label)")
        }
        let renderer = "/usr/bin/rsvg-convert"
        guard FileManager.default.isExecutableFile(atPath: renderer) else { return }
        try withTemporaryDirectory { dir in
            let svg = dir + "/book.svg", png = dir + "/book.png"
            try text.write(toFile: svg, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: renderer)
            p.arguments = [svg, "-o", png]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
            // A PNG of the SVG's own width (900): its IHDR width field.
            #expect(bytes.count > 1000 && bytes.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
            #expect(bytes[16..<20] == Data([0, 0, 0x03, 0x84]))
        }
    }

    /// A campaign writes an .svg beside every finding: both disagreeing implementations, the differing
    /// field highlighted, the sequence as text.
    @Test func everyFindingHasItsPicture() throws {
        try withTemporaryDirectory { dir in
            var options = CampaignOptions()
            options.iterations = 512
            options.seed = 3
            options.target = Target()
            options.mutant = Mutant(.reserveLen, .swift)
            options.maxDivergences = 1
            options.outDirectory = dir
            let report = try Campaign.run(options)
            let finding = try #require(report.findings.first)
            let svgPath = (try #require(finding.path) as NSString).deletingPathExtension + ".svg"
            let text = try String(contentsOfFile: svgPath, encoding: .utf8)
            let groups = try parse(text)
            let refs = finding.failure.views.first { $0.name == "swift-off" }?.references.count ?? 0
            #expect(groups.steps.count == 2 * refs && groups.diffs > 0)
            #expect(text.contains("swift-off") && text.contains("c-off") && text.contains(SeedFile.render(finding.seedFile.calls[0])))
        }
    }
}
