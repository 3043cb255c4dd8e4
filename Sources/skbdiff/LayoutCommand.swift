import ArgumentParser
import Foundation
import SKBDiff
import SKBKernel
import SKBLayout
import SKBuff

/// `skbdiff layout`: header fidelity. libclang against the Swift layout engine, and on an x86_64 host
/// the compiled C reference and MemoryLayout of its imported structs.
struct LayoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Check struct sk_buff and struct skb_shared_info, field by field, with libclang.",
        discussion: """
        CReference/include/CSKBuff.h is parsed with libclang for i386 and x86_64
        (-target <arch>-unknown-linux-gnu), with sk_buff_data_t as an offset (OFF,
        -DNET_SKBUFF_DATA_USES_OFFSET) and as a pointer (PTR), for each CONFIG
        profile (minimal, typical, distro): 12 targets. For each, libclang gives
        the size and alignment of both structs, the offset and size of every field
        (bit offset and width of bit-fields; the anonymous csum union flattened)
        and sizeof(sk_buff_data_t). Compared field by field:
          - libclang against the Swift model's layout engine (SKBuff/Layout.swift);
          - on an x86_64 host, for the x86_64 targets, the compiled C reference's
            descriptors (off_minimal_skbref_variant, ...) and MemoryLayout of the
            structs Swift imports from it (ordinary fields) against the same;
          - for the i386 targets, the same descriptors compiled with -m32, as the
            i386 worker reports them (built on first use; without it, said once).
        The report is pahole's: each field with its offset and size, holes,
        padding and 64-byte cache-line boundaries marked, and a summary. Then
        what OFF saves over PTR on x86_64, and why that is not 5 x 4 = 20 bytes,
        and the check that OFF and PTR give one layout on i386.

        libclang is loaded at run time (no clang-c headers needed), from:
          1. LIBCLANG_PATH: a libclang.so, or a directory holding libclang.so
             or libclang-N.so; nothing else is tried when it is set;
          2. Debian's libclang-dev (apt-get install libclang-dev), newest first:
             /usr/lib/llvm-*/lib/libclang.so*, /usr/lib/<multiarch>/libclang-*.so*;
          3. the Swift toolchain's: usr/lib/libclang.so beside the swift found
             on PATH, then /opt/swift/usr/lib/libclang.so.
        The header is parsed with -ffreestanding -nostdlibinc: clang's own
        stddef.h and stdint.h, never the host's libc headers.

        With --kernel-tree DIR the tree's own include/linux/skbuff.h is parsed
        too, for every target, in the stand-in kernel environment the kernel
        worker compiles it in (Specs/kernel.md: the target's CONFIG_ options,
        BITS_PER_LONG choosing the representation through the header's own #if),
        compared field by field with the Swift model (and so with the C
        reference), and printed as pahole does, with each field's C type and
        "<<< differs" on any field that does not match.

        Examples:
          skbdiff layout                                all 12 targets
          skbdiff layout --kernel-tree ../linux-2.6.24  the real header too
          skbdiff layout --arch x86_64 --config distro  narrow the targets
          skbdiff layout --json > layouts.json          machine-readable records
          skbdiff layout --write-expectations Specs/layouts
                                        regenerate the expectations; review the diff

        Exit codes: 0 every source agrees; 1 some field differs (a table of the
        differences is printed); 2 bad usage, no libclang, or a header clang
        rejects (with clang's diagnostics).
        """
    )

    @Option(help: "Only this architecture.")
    var arch: Arch?

    @Option(help: "Only this sk_buff_data_t representation: offset (OFF) or pointer (PTR).")
    var representation: RepresentationKind?

    @Option(help: "Only this CONFIG profile.")
    var config: ConfigProfile?

    @Flag(help: "Print JSON records, one per (arch, representation, config, struct), instead of the pahole-style report.")
    var json = false

    @Option(help: ArgumentHelp("Parse this header instead of CReference/include/CSKBuff.h (found from the current directory upwards); its directory is the include path.",
                               valueName: "path"))
    var header: String?

    @Option(name: .customLong("write-expectations"),
            help: ArgumentHelp("Write the layouts libclang measured, one file per target, into this directory (Specs/layouts), then check as usual.",
                               valueName: "dir"))
    var writeExpectations: String?

    @OptionGroup var kernel: KernelTreeOptions

    func run() throws {
        var options = LayoutCheckOptions(arch: arch, representation: representation, config: config, header: header)
        if arch != .x86_64 { options.i386Compiled = I386Layouts.provider() }
        if let path = kernel.path {
            do {
                let tree = try KernelTree(path: path)
                if let warning = tree.versionWarning { printError("skbdiff: warning: \(warning)") }
                let creference = ProcessInfo.processInfo.environment["SKBDIFF_CREFERENCE"] ?? I386Worker.packageCReference
                options.kernel = KernelHeaderSource(treeRoot: tree.root, creference: creference)
            } catch {
                printError("skbdiff layout: \(error)")
                throw ExitCode(2)
            }
        }
        let report: LayoutReport
        do {
            report = try LayoutCheck.run(options)
            if let directory = writeExpectations {
                for path in try ExpectationFile.write(report.measured, directory: directory) { printError("wrote \(path)") }
            }
        } catch let error as LayoutError {
            printError("skbdiff layout: \(error)")
            throw ExitCode(2)
        }
        for warning in report.warnings { printError(warning.text) }
        if json {
            print(try report.json(), terminator: "")
            if !report.differences.isEmpty { printError(report.verdict) }
        } else {
            print(report.text, terminator: "")
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}

/// The i386 worker's compiled layouts, in the layout checker's terms.
enum I386Layouts {
    static func provider() -> (@Sendable (LayoutTarget) -> TargetLayout?)? {
        let variants: [WorkerImplementation.VariantInfo]
        switch I386Worker.executable {
        case let .failure(u):
            printError("skbdiff layout: the i386 C reference is not compared: \(u)")
            return nil
        case let .success(executable):
            do { variants = try WorkerImplementation.variants(executable: executable) } catch {
                printError("skbdiff layout: the i386 C reference is not compared: \(error)")
                return nil
            }
        }
        return { target in
            let profile = Int32(ConfigProfile.allCases.firstIndex(of: target.config)!)
            guard let v = variants.first(where: { $0.usesOffset == (target.representation == .offset) && $0.profile == profile }) else { return nil }
            func fields(_ f: [WorkerImplementation.CField32]) -> [LayoutField] {
                f.map { LayoutField(name: $0.name, offset: Int($0.offset), size: Int($0.size), bitOffset: Int($0.bitOffset), bitWidth: Int($0.bitWidth)) }
            }
            return TargetLayout(target: target,
                                skBuff: StructLayout(size: Int(v.sizeofSkBuff), align: Int(v.alignofSkBuff), fields: fields(v.skBuffFields)),
                                sharedInfo: StructLayout(size: Int(v.sizeofSharedInfo), align: Int(v.alignofSharedInfo), fields: fields(v.sharedInfoFields)),
                                dataTSize: Int(v.sizeofDataT))
        }
    }
}
