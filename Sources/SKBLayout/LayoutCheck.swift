import Foundation
import SKBuff

/// What `skbdiff layout` is asked to do.
public struct LayoutCheckOptions: Sendable {
    /// Narrowing: nil means every value.
    public var arch: Arch?
    public var representation: RepresentationKind?
    public var config: ConfigProfile?
    /// --header: parse this file instead of CReference/include/CSKBuff.h.
    public var header: String?
    /// Where CReference is looked for (and upwards from it).
    public var directory: String
    public var libclang: LibClangSearch
    /// The i386 C reference's own layouts (the worker's compiled descriptors), when one can be had:
    /// nil for a target it does not cover. Injected by the command, which knows how to start it.
    public var i386Compiled: (@Sendable (LayoutTarget) -> TargetLayout?)?
    /// `--kernel-tree`: a tree's own include/linux/skbuff.h, parsed too (Specs/kernel.md).
    public var kernel: KernelHeaderSource?

    public init(arch: Arch? = nil, representation: RepresentationKind? = nil, config: ConfigProfile? = nil, header: String? = nil,
                directory: String = FileManager.default.currentDirectoryPath, libclang: LibClangSearch = LibClangSearch()) {
        self.arch = arch
        self.representation = representation
        self.config = config
        self.header = header
        self.directory = directory
        self.libclang = libclang
    }
}

/// The names the sources go by in reports.
public enum LayoutSourceName {
    public static let swiftModel = "Swift layout"
    public static let libclang = "libclang"
    public static let cReference = "C reference"
    public static let cReferenceI386 = "i386 C reference"
    public static let memoryLayout = "MemoryLayout"
    public static let expectation = "expectation file"
    public static let kernelTree = "kernel tree"
}

/// A kernel tree's include/linux/skbuff.h as `skbdiff layout --kernel-tree` parses it: in the
/// stand-in kernel environment the kernel worker compiles it in (CReference/kernel), for each target
/// with the target's -target, CONFIG_ options, and BITS_PER_LONG choosing the representation through
/// the header's own #if (Specs/kernel.md).
public struct KernelHeaderSource: Sendable {
    public var treeRoot: String
    public var creference: String

    public init(treeRoot: String, creference: String) {
        self.treeRoot = treeRoot
        self.creference = creference
    }

    /// The file parsed: it enters the target's variant and includes the tree's header.
    static let wrapperText = "#include \"skbref_variant_begin.h\"\n#include <linux/skbuff.h>\n"

    func arguments(_ target: LayoutTarget) -> [String] {
        let profile = ConfigProfile.allCases.firstIndex(of: target.config)!
        // The stand-in's functions are declared, not defined, in a parse of the header alone.
        return ["-x", "c", "-std=gnu11", "-target", target.arch.triple, "-ffreestanding", "-nostdlibinc", "-Wno-undefined-internal",
                "-DSKBREF_SINGLE_THREAD", "-DSKBREF_KERNEL_WORKER", "-DSKBREF_V_PREFIX=layout_",
                "-DSKBREF_V_OFFSET=\(target.representation == .offset ? 1 : 0)", "-DSKBREF_V_PROFILE=\(profile)",
                "-include", creference + "/kernel/skbk_env.h", "-I", creference + "/kernel/include",
                "-I", treeRoot + "/include", "-I", treeRoot + "/net/core", "-I", creference + "/kernel",
                "-I", creference + "/worker/include", "-I", creference + "/worker", "-I", creference + "/include",
                "-I", creference + "/src"]
    }

    /// The tree's layout for each target, with the fields' C types.
    func read(_ targets: [LayoutTarget], _ libclang: LibClang) throws -> [ClangReading] {
        let directory = NSTemporaryDirectory() + "skbdiff-kernel-layout-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wrapper = directory + "/skbk_layout.c"
        try KernelHeaderSource.wrapperText.write(toFile: wrapper, atomically: true, encoding: .utf8)
        return try targets.map { target in
            do { return try libclang.readLayout(target, header: LayoutHeader(path: wrapper), arguments: arguments(target)) } catch let e as LayoutError {
                throw LayoutError(e.kind, "\(treeRoot)/include/linux/skbuff.h, parsed for \(target): " + e.message, diagnostics: e.diagnostics)
            }
        }
    }
}

/// The outcome of one check: what libclang measured, what was compared, and every disagreement.
public struct LayoutReport: Sendable {
    public var libclang: LibClang
    public var header: LayoutHeader
    public var targets: [LayoutTarget]
    /// libclang's layouts, one per target, in target order.
    public var measured: [TargetLayout]
    /// Warnings clang printed (errors stop the check), without repeats.
    public var warnings: [ClangDiagnostic]
    /// One line per comparison made, for the summary.
    public var compared: [String]
    public var differences: [LayoutDifference]
    public var sizing: SizingReport
    /// `--kernel-tree`: the tree's header's layouts, one per target, with each field's C type.
    public var kernel: [ClangReading] = []

    /// 0 when every source agrees, 1 otherwise.
    public var exitCode: Int32 { differences.isEmpty ? 0 : 1 }

    /// pahole-style layouts of every selected target, then the sizing report and the verdict.
    public var text: String {
        var sections = measured.flatMap { layout in
            LayoutStructKind.allCases.map { PaholeRenderer.render(layout[$0], $0, target: layout.target) }
        }
        for reading in kernel {
            let target = reading.layout.target
            for kind in LayoutStructKind.allCases {
                let marked = Set(differences.filter { $0.target == target && $0.source == LayoutSourceName.kernelTree }
                    .compactMap { d -> String? in
                        let prefix = kind.rawValue + "."
                        return d.item.hasPrefix(prefix) ? String(d.item.dropFirst(prefix.count)) : nil
                    })
                sections.append(PaholeRenderer.render(reading.layout[kind], kind, target: target, types: reading.types[kind] ?? [:],
                                                      marked: marked, title: "the kernel tree's include/linux/skbuff.h"))
            }
        }
        if !sizing.isEmpty { sections.append(sizing.text) }
        sections.append(verdict)
        return sections.joined(separator: "\n\n") + "\n"
    }

    /// What was compared and whether it agreed; the table of differences when not.
    public var verdict: String {
        var lines = ["libclang: \(libclang.path) (\(libclang.version))", "header: \(header.path)"]
        lines += compared
        if differences.isEmpty {
            lines.append("all layouts agree (\(plural(targets.count, "target")))")
        } else {
            lines.append("\(plural(differences.count, "difference")):")
            lines.append(LayoutComparison.table(differences))
        }
        return lines.joined(separator: "\n")
    }

    /// `--json`: the records libclang measured.
    public func json() throws -> String { try LayoutJSON.encode(measured) + "\n" }
}

public enum LayoutCheck {
    /// Parses the header with libclang for every selected target and compares it field by field with
    /// the Swift layout engine; on an x86_64 host also the compiled C reference's descriptors and
    /// MemoryLayout of its imported structs. Throws a LayoutError when the check cannot run.
    public static func run(_ options: LayoutCheckOptions) throws -> LayoutReport {
        let targets = LayoutTarget.selected(arch: options.arch, representation: options.representation, config: options.config)
        let header = try options.header.map(LayoutHeader.init(path:)) ?? LayoutHeader.locate(from: options.directory)
        let libclang = try LibClang.locate(options.libclang)
        var measured: [TargetLayout] = []
        var warnings: [ClangDiagnostic] = []
        for target in targets {
            let reading = try libclang.readLayout(target, header: header)
            measured.append(reading.layout)
            warnings += reading.warnings.filter { !warnings.contains($0) }
        }

        var differences: [LayoutDifference] = []
        var compared = ["compared: \(LayoutSourceName.libclang) against the \(LayoutSourceName.swiftModel) for "
                        + targets.map(\.description).joined(separator: ", ")]
        for layout in measured {
            differences += LayoutComparison.compare(.swiftModel(layout.target), LayoutSourceName.swiftModel, with: layout, LayoutSourceName.libclang)
        }
        let host = targets.filter(CReferenceLayout.covers)
        if !host.isEmpty {
            for target in host {
                differences += LayoutComparison.compare(.swiftModel(target), LayoutSourceName.swiftModel,
                                                        with: CReferenceLayout.compiled(target)!, LayoutSourceName.cReference)
                differences += LayoutComparison.compare(.swiftModel(target), LayoutSourceName.swiftModel,
                                                        with: CReferenceLayout.imported(target)!, LayoutSourceName.memoryLayout, partial: true)
            }
            compared.append("compared: the \(LayoutSourceName.cReference)'s descriptors (compiled for this host) and \(LayoutSourceName.memoryLayout)"
                            + " of its imported structs (ordinary fields) against the \(LayoutSourceName.swiftModel) for "
                            + host.map(\.description).joined(separator: ", "))
        }
        if let provider = options.i386Compiled {
            var covered: [LayoutTarget] = []
            for target in targets where target.arch == .i386 {
                guard let compiled = provider(target) else { continue }
                covered.append(target)
                differences += LayoutComparison.compare(.swiftModel(target), LayoutSourceName.swiftModel,
                                                        with: compiled, LayoutSourceName.cReferenceI386)
            }
            if !covered.isEmpty {
                compared.append("compared: the \(LayoutSourceName.cReferenceI386)'s descriptors (compiled with -m32, reported by the worker)"
                                + " against the \(LayoutSourceName.swiftModel) for " + covered.map(\.description).joined(separator: ", "))
            }
        }
        var kernel: [ClangReading] = []
        if let source = options.kernel {
            kernel = try source.read(targets, libclang)
            for reading in kernel {
                differences += LayoutComparison.compare(.swiftModel(reading.layout.target), LayoutSourceName.swiftModel,
                                                        with: reading.layout, LayoutSourceName.kernelTree)
                warnings += reading.warnings.filter { !warnings.contains($0) }
            }
            compared.append("compared: the \(LayoutSourceName.kernelTree)'s \(source.treeRoot)/include/linux/skbuff.h (libclang, in the stand-in"
                            + " environment) against the \(LayoutSourceName.swiftModel) for " + targets.map(\.description).joined(separator: ", "))
        }
        let sizing = SizingReport(measured, source: LayoutSourceName.libclang)
        differences += sizing.i386Differences
        var report = LayoutReport(libclang: libclang, header: header, targets: targets, measured: measured, warnings: warnings,
                                  compared: compared, differences: differences, sizing: sizing)
        report.kernel = kernel
        return report
    }
}
