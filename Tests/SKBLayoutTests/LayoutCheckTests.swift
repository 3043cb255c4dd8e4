import SKBLayout
import SKBuff
import Testing

/// The whole check, as `skbdiff layout` runs it.
@Suite struct LayoutCheckTests {
    @Test func everySourceAgrees() throws {
        let report = try LayoutCheck.run(LayoutCheckOptions(directory: packageRoot + "/Tests"))
        #expect(report.exitCode == 0, describe(report.differences))
        #expect(report.measured.map(\.target) == LayoutTarget.all)
        #expect(report.header.path == packageHeader.path)
        #expect(report.text.contains("all layouts agree (12 targets)"))
        #expect(report.sizing.x86_64.count == 3)
    }

    @Test func narrowingSelectsTargets() throws {
        let report = try LayoutCheck.run(LayoutCheckOptions(arch: .x86_64, config: .distro, directory: packageRoot))
        #expect(report.targets == [LayoutTarget(arch: .x86_64, representation: .offset, config: .distro),
                                   LayoutTarget(arch: .x86_64, representation: .pointer, config: .distro)])
        #expect(report.sizing.x86_64.map(\.config) == [.distro])
        #expect(report.sizing.i386Identical.isEmpty)
    }

    /// A header whose iif is a long moves every later field: the check names them and fails.
    @Test func movedFieldFailsTheCheck() throws {
        try withTemporaryDirectory { directory in
            let header = try editedHeader(in: directory) { $0.replacingOccurrences(of: "    int iif;", with: "    long iif;") }
            let report = try LayoutCheck.run(LayoutCheckOptions(arch: .x86_64, representation: .offset, config: .minimal, header: header.path))
            #expect(report.exitCode == 1)
            let fromLibclang = report.differences.filter { $0.source == LayoutSourceName.libclang }
            #expect(fromLibclang.contains { $0.item == "sk_buff.iif" && $0.property == "size" && $0.expected == "4" && $0.actual == "8" })
            #expect(fromLibclang.contains { $0.item == "sk_buff.mark" && $0.property == "offset" && $0.expected == "140" && $0.actual == "144" })
            #expect(report.verdict.contains("sk_buff.transport_header"))
            // The C reference was compiled from the real header: it still agrees.
            #expect(!report.differences.contains { $0.source == LayoutSourceName.cReference })
        }
    }

    @Test func missingHeaderIsAUsageError() throws {
        let error = try #require(throws: LayoutError.self) { try LayoutCheck.run(LayoutCheckOptions(directory: "/")) }
        #expect(error.kind == .usage)
        #expect(error.message.contains("--header"))
    }
}
