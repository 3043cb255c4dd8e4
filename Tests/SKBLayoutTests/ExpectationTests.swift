import Foundation
import SKBLayout
import SKBuff
import Testing

/// Specs/layouts: every file against the Swift layout engine and libclang, field by field.
@Suite struct ExpectationTests {
    @Test(arguments: LayoutTarget.all)
    func expectationMatchesSwiftLayout(_ target: LayoutTarget) throws {
        let expected = try ExpectationFile.read(target, directory: layoutsDirectory)
        let differences = LayoutComparison.compare(expected, LayoutSourceName.expectation, with: .swiftModel(target), LayoutSourceName.swiftModel)
        #expect(differences.isEmpty, describe(differences))
    }

    @Test(arguments: LayoutTarget.all)
    func expectationMatchesLibclang(_ target: LayoutTarget) throws {
        let expected = try ExpectationFile.read(target, directory: layoutsDirectory)
        let measured = try LibClang.locate().readLayout(target, header: packageHeader)
        let differences = LayoutComparison.compare(expected, LayoutSourceName.expectation, with: measured.layout, LayoutSourceName.libclang)
        #expect(differences.isEmpty, describe(differences))
        #expect(measured.warnings.isEmpty, "clang warned: \(measured.warnings)")
    }

    @Test func directoryHoldsExactlyOneFilePerTarget() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: layoutsDirectory).filter { $0.hasSuffix(".txt") }
        #expect(Set(files) == Set(LayoutTarget.all.map(ExpectationFile.fileName)))
    }

    /// The files are exactly what the writer produces, so regenerating them shows only real changes.
    @Test(arguments: LayoutTarget.all)
    func filesAreCanonical(_ target: LayoutTarget) throws {
        let path = layoutsDirectory + "/" + ExpectationFile.fileName(target)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(ExpectationFile.render(try ExpectationFile.parse(text, path: path)) == text)
    }

    @Test func movedFieldIsNamed() throws {
        let target = LayoutTarget(arch: .x86_64, representation: .offset, config: .minimal)
        var text = ExpectationFile.render(.swiftModel(target))
        text = text.replacingOccurrences(of: "\nhead               168     8", with: "\nhead               172     8")
        let edited = try ExpectationFile.parse(text, path: "edited.txt")
        let differences = LayoutComparison.compare(edited, LayoutSourceName.expectation, with: .swiftModel(target), LayoutSourceName.swiftModel)
        #expect(differences.map(\.item) == ["sk_buff.head"])
        #expect(differences.first?.description == "x86_64 OFF minimal: sk_buff.head offset: expectation file 172, Swift layout 168")
    }

    @Test func malformedLineIsReportedWithFileAndLine() throws {
        let text = "target i386 offset minimal\nsk_buff_data_t size 4\nstruct sk_buff size 8 align 4\nnext 0\n"
        let error = try #require(throws: LayoutError.self) { try ExpectationFile.parse(text, path: "bad.txt") }
        #expect(error.kind == .expectations)
        #expect(error.message.hasPrefix("bad.txt:4: "))
    }

    @Test func bitFieldMustSitInItsByte() throws {
        let text = "target i386 offset minimal\nsk_buff_data_t size 4\nstruct sk_buff size 8 align 4\nlocal_df 3 0 100:1\n"
        let error = try #require(throws: LayoutError.self) { try ExpectationFile.parse(text, path: "bad.txt") }
        #expect(error.message.contains("bad.txt:4: bit-field local_df"))
    }

    @Test func fileForAnotherTargetIsRejected() throws {
        try withTemporaryDirectory { directory in
            let target = LayoutTarget(arch: .i386, representation: .pointer, config: .typical)
            let other = LayoutTarget(arch: .x86_64, representation: .pointer, config: .typical)
            try ExpectationFile.render(.swiftModel(other)).write(toFile: directory + "/" + ExpectationFile.fileName(target), atomically: true, encoding: .utf8)
            let error = try #require(throws: LayoutError.self) { try ExpectationFile.read(target, directory: directory) }
            #expect(error.message.contains("describes x86_64 PTR typical, expected i386 PTR typical"))
        }
    }

    @Test func writeThenReadRoundTrips() throws {
        try withTemporaryDirectory { directory in
            let layouts = LayoutTarget.all.map(TargetLayout.swiftModel)
            let paths = try ExpectationFile.write(layouts, directory: directory + "/layouts")
            #expect(paths.count == 12)
            for layout in layouts {
                #expect(try ExpectationFile.read(layout.target, directory: directory + "/layouts") == layout)
            }
        }
    }
}
