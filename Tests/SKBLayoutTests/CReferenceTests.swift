import SKBLayout
import SKBuff
import Testing

/// The compiled C reference (descriptors) and MemoryLayout of its imported structs, on an x86_64 host.
@Suite(.enabled(if: CReferenceLayout.covers(LayoutTarget(arch: .x86_64, representation: .offset, config: .minimal)),
                "the C reference models an x86_64 host"))
struct CReferenceTests {
    static let hostTargets = LayoutTarget.all.filter { $0.arch == .x86_64 }

    @Test(arguments: hostTargets)
    func descriptorsAgreeWithSwiftLayout(_ target: LayoutTarget) throws {
        let compiled = try #require(CReferenceLayout.compiled(target))
        let differences = LayoutComparison.compare(.swiftModel(target), LayoutSourceName.swiftModel, with: compiled, LayoutSourceName.cReference)
        #expect(differences.isEmpty, describe(differences))
    }

    @Test(arguments: hostTargets)
    func memoryLayoutAgreesWithSwiftLayout(_ target: LayoutTarget) throws {
        let imported = try #require(CReferenceLayout.imported(target))
        let differences = LayoutComparison.compare(.swiftModel(target), LayoutSourceName.swiftModel, with: imported, LayoutSourceName.memoryLayout,
                                                   partial: true)
        #expect(differences.isEmpty, describe(differences))
        // Every field but the nine bit-fields and the three csum union members is checked.
        #expect(imported.skBuff.fields.count == TargetLayout.swiftModel(target).skBuff.fields.count - 12)
        #expect(imported.sharedInfo.fields.count == 8)
    }

    @Test func i386IsNotCovered() {
        #expect(CReferenceLayout.compiled(LayoutTarget(arch: .i386, representation: .pointer, config: .minimal)) == nil)
    }
}
