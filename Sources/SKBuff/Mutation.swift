/// Faults that can be switched on in a `Kernel` at run time, to measure whether the fuzzer and the
/// corpus catch them (`skbdiff mutants`; the catalogue with what each breaks is Specs/mutants.txt).
/// The C reference has the same faults under the same names (enum skbref_mutant). Each is a
/// realistic porting bug: a `>` for a `>=`, an off-by-one, a field not copied or not rebased, a
/// failure path that does too much or too little. Off (0), every check is one integer compare.
public enum Mutation: Int32, CaseIterable, Sendable {
    case putGe = 1
    case pushLe
    case pullGe
    case trimGe
    case alignPlusOne
    case truesizeShinfo
    case expandPtrMacKept
    case expandCsumKept
    case expandTruesize
    case expandHdrLenKept
    case cloneNoDataref
    case releaseIgnoresNohdr
    case headerReleaseOne
    case headerClonedPlus
    case fcloneStaysBusy
    case cloneHdrLenKept
    case cloneKeepsNohdr
    case reallocDeltaLt
    case cowGe
    case padGt
    case padFailureKeeps
    case copyExpandCsumKept
    case copyExpandOffHeadersKept
    case copyNoGsoSegs
    case copyIp6FragId
    case cloneNoMacLen
    case fromCacheTruesize
    case devAllocPad
    case reserveLen
    case expandFailureUncloned
    case setTailOffForgetsData
    case putReturnsNewTail
    case pullTailKeepsExactFrag
    case expandNoGetPage
    case trimEndLe
    case pskbCopyNoGetPage

    /// The catalogue id: the case name in kebab case (`putGe` is `put-ge`), as C's names are.
    public var id: String {
        var out = ""
        for c in String(describing: self) {
            if c.isUppercase { out += "-" }
            out += c.lowercased()
        }
        return out
    }

    public static let byID: [String: Mutation] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.id, $0) })
}
