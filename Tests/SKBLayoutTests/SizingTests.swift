import SKBLayout
import SKBuff
import Testing

/// What NET_SKBUFF_DATA_USES_OFFSET saves, measured, and the i386 check.
@Suite struct SizingTests {
    static func measured() throws -> [TargetLayout] {
        let libclang = try LibClang.locate()
        return try LayoutTarget.all.map { try libclang.readLayout($0, header: packageHeader).layout }
    }

    @Test func i386OffsetAndPointerGiveOneLayout() throws {
        for (source, layouts) in [("libclang", try SizingTests.measured()), ("Swift layout", LayoutTarget.all.map(TargetLayout.swiftModel))] {
            let report = SizingReport(layouts, source: source)
            #expect(report.i386Differences.isEmpty, describe(report.i386Differences))
            #expect(report.i386Identical.map(\.config) == ConfigProfile.allCases, "\(source)")
        }
    }

    /// The check can fail: an i386 OFF layout with a field moved is reported.
    @Test func i386DifferenceIsReported() {
        var layouts = LayoutTarget.all.filter { $0.arch == .i386 }.map(TargetLayout.swiftModel)
        layouts[0].skBuff.fields[0].offset = 4
        let report = SizingReport(layouts, source: "test")
        #expect(report.i386Differences.map(\.item) == ["sk_buff.next"])
        #expect(report.i386Identical.map(\.config) == [.typical, .distro])
    }

    /// The book's 20 bytes are 5 x (8 - 4); libclang measures 16 in every profile, because OFF leaves
    /// 4 bytes of padding before head. The Swift layout engine must say the same.
    @Test func x86_64SavingIsTheMeasuredOne() throws {
        let measured = SizingReport(try SizingTests.measured(), source: "libclang").x86_64
        let model = SizingReport(LayoutTarget.all.map(TargetLayout.swiftModel), source: "Swift layout").x86_64
        #expect(measured == model)
        #expect(measured.map(\.config) == ConfigProfile.allCases)
        for entry in measured {
            #expect(entry.saving == 16, "\(entry.line)")
            #expect(entry.naiveSaving == 20)
            #expect(entry.narrowed.map(\.name) == ["transport_header", "network_header", "mac_header", "tail", "end"])
            let reason = try #require(entry.reason)
            #expect(reason.contains("not 5 x 4 = 20"))
            #expect(reason.contains("4 bytes of alignment padding before head"))
            #expect(entry.gapChanges.map(\.before) == ["head"])
        }
    }

    /// With no padding change the saving is the naive one and no reason is given.
    @Test func noReasonWhenTheSavingIsNaive() {
        let pointer = StructLayoutFixture.layout([("a", 0, 8), ("b", 8, 8)], size: 16, align: 8)
        let offset = StructLayoutFixture.layout([("a", 0, 4), ("b", 4, 4)], size: 8, align: 4)
        let entry = SizingEntry(config: .minimal, pointer: pointer, offset: offset)
        #expect(entry.saving == 8 && entry.naiveSaving == 8)
        #expect(entry.reason == nil)
    }
}

/// Small layouts of ordinary fields.
enum StructLayoutFixture {
    static func layout(_ fields: [(String, Int, Int)], size: Int, align: Int) -> StructLayout {
        StructLayout(size: size, align: align,
                     fields: fields.map { LayoutField(name: $0.0, offset: $0.1, size: $0.2, bitOffset: $0.1 * 8, bitWidth: 0) })
    }
}
