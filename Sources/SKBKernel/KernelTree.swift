import Foundation
import SKBDiff
import SKBLayout
import SKBuff
#if canImport(Glibc)
import Glibc
#endif

/// A Linux kernel tree given with `--kernel-tree DIR` (Specs/kernel.md): the files skbdiff reads from
/// it, and the version its top Makefile names. Reading it checks that every file is there; nothing
/// of it is copied into the project.
public struct KernelTree: Sendable, Hashable {
    /// The tree's root, absolute.
    public let root: String
    /// "2.6.24", from VERSION, PATCHLEVEL, SUBLEVEL and EXTRAVERSION of the top Makefile.
    public let version: String

    /// The version the Swift model and the C reference model.
    public static let modelledVersion = "2.6.24"
    /// The files skbdiff reads, relative to the root.
    public static let files = ["Makefile", "include/linux/skbuff.h", "net/core/skbuff.c", "net/core/kmap_skb.h"]
    /// Where a tree is named when `--kernel-tree` is not given.
    public static let environmentVariable = "SKBDIFF_KERNEL_TREE"

    /// Why a tree cannot be used (the command line says it and exits 2).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ d: String) { description = d }
    }

    public init(path: String) throws(Failure) {
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure("kernel tree \(path): no such directory")
        }
        let missing = KernelTree.files.filter { !FileManager.default.isReadableFile(atPath: root + "/" + $0) }
        guard missing.isEmpty else {
            throw Failure("kernel tree \(root) lacks " + missing.joined(separator: ", ")
                          + " (a tree must have " + KernelTree.files.joined(separator: ", ") + ")")
        }
        self.root = root
        self.version = try KernelTree.version(makefile: root + "/Makefile")
    }

    /// The version a top Makefile names: its VERSION, PATCHLEVEL and SUBLEVEL assignments (and
    /// EXTRAVERSION, "-rc1", when set).
    static func version(makefile: String) throws(Failure) -> String {
        guard let text = try? String(contentsOfFile: makefile, encoding: .utf8) else {
            throw Failure("\(makefile): cannot be read as text")
        }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(40) {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if ["VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"].contains(key), values[key] == nil {
                values[key] = parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        guard let v = values["VERSION"], let p = values["PATCHLEVEL"], Int(v) != nil, Int(p) != nil else {
            throw Failure("\(makefile): no VERSION and PATCHLEVEL assignments in its first 40 lines (expected e.g. VERSION = 2, PATCHLEVEL = 6)")
        }
        var version = "\(v).\(p)"
        if let s = values["SUBLEVEL"], !s.isEmpty { version += ".\(s)" }
        return version + (values["EXTRAVERSION"] ?? "")
    }

    /// Said once when the tree is not the modelled version (it is still used).
    public var versionWarning: String? {
        version == KernelTree.modelledVersion ? nil
            : "kernel tree \(root) is Linux \(version), not \(KernelTree.modelledVersion), the version the Swift model and the C reference model: its differences will show as divergences"
    }

    /// The tree given with `--kernel-tree` (nil: none), else SKBDIFF_KERNEL_TREE.
    public static func named(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let option { return option }
        if let e = environment[environmentVariable], !e.isEmpty { return e }
        return nil
    }

    /// The bytes of every file read, for the build's key.
    func contents() -> [(String, Data)] {
        KernelTree.files.map { ($0, FileManager.default.contents(atPath: root + "/" + $0) ?? Data()) }
    }
}
