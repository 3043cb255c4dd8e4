import Foundation
import SKBDiff
import SKBLayout
import SKBuff
#if canImport(Glibc)
import Glibc
#endif

/// Builds the kernel worker of one arch from a tree (Specs/kernel.md): libclang cuts the functions
/// the operations need out of the tree's net/core/skbuff.c; CReference/kernel/kernel_variant.c
/// compiles them with the tree's own include/linux/skbuff.h and net/core/kmap_skb.h in the stand-in
/// environment, once per representation and CONFIG profile; the six link with the worker's own
/// sources (the i386 C reference's: worker.c, freestanding.c, shim.c, driver.c) into one freestanding program,
/// -m32 or -m64. The program is kept under `.build/kernel-worker/`, named by a hash of the tree's
/// files, the CReference sources, the flags and the compiler, so a second run starts at once.
public enum KernelBuild {
    /// What the harness calls by name, with an operation that needs it (Specs/kernel.md lists them).
    /// Each must be defined by the tree's skbuff.c or by an inline function of its headers.
    public static let roots: [(function: String, operation: String)] = [
        ("alloc_skb", "alloc_skb"), ("alloc_skb_fclone", "alloc_skb_fclone"), ("dev_alloc_skb", "dev_alloc_skb"),
        ("skb_reserve", "skb_reserve"), ("skb_put", "skb_put"), ("__skb_put", "__skb_put"), ("skb_push", "skb_push"),
        ("__skb_push", "__skb_push"), ("skb_pull", "skb_pull"), ("__skb_pull", "__skb_pull"), ("skb_trim", "skb_trim"),
        ("__skb_trim", "__skb_trim"), ("skb_headroom", "skb_headroom"), ("skb_tailroom", "skb_tailroom"),
        ("skb_clone", "skb_clone"), ("skb_copy", "skb_copy"), ("pskb_copy", "pskb_copy"),
        ("pskb_expand_head", "pskb_expand_head"), ("skb_realloc_headroom", "skb_realloc_headroom"),
        ("skb_copy_expand", "skb_copy_expand"), ("skb_cow", "skb_cow"), ("skb_cow_head", "skb_cow_head"),
        ("skb_pad", "skb_pad"), ("skb_padto", "skb_padto"), ("skb_unshare", "skb_unshare"),
        ("skb_share_check", "skb_share_check"), ("skb_get", "skb_get"), ("kfree_skb", "kfree_skb"),
        ("skb_header_release", "skb_header_release"), ("skb_cloned", "skb_cloned"),
        ("skb_header_cloned", "skb_header_cloned"), ("skb_shared", "skb_shared"),
        ("skb_reset_mac_header", "skb_reset_mac_header"), ("skb_reset_network_header", "skb_reset_network_header"),
        ("skb_reset_transport_header", "skb_reset_transport_header"), ("skb_set_mac_header", "skb_set_mac_header"),
        ("skb_set_network_header", "skb_set_network_header"), ("skb_set_transport_header", "skb_set_transport_header"),
        ("skb_mac_header_was_set", "skb_mac_header_was_set"), ("skb_reset_tail_pointer", "skb_reset_tail_pointer"),
        ("skb_set_tail_pointer", "skb_set_tail_pointer"), ("skb_tail_pointer", "skb_tail_pointer"),
        ("skb_end_pointer", "skb_end_pointer"), ("skb_is_nonlinear", "skb_is_nonlinear"), ("skb_headlen", "skb_headlen"),
        ("skb_pagelen", "skb_pagelen"), ("pskb_may_pull", "pskb_may_pull"), ("__pskb_pull_tail", "__pskb_pull_tail"),
        ("pskb_pull", "pskb_pull"), ("pskb_trim", "pskb_trim"), ("skb_linearize", "skb_linearize"),
        ("skb_copy_bits", "skb_copy_bits"), ("skb_fill_page_desc", "add_frag"),
        ("skb_mac_header", "the snapshot"), ("skb_network_header", "the snapshot"), ("skb_transport_header", "the snapshot"),
        ("skb_init", "the sk_buff caches"),
    ]

    /// What the stand-in defines itself (never taken from the tree).
    public static let provided: Set<String> = ["skb_over_panic", "skb_under_panic"]

    /// The variants: (symbol prefix, OFF, profile index).
    static let variants: [(prefix: String, offset: Int, profile: Int)] = [
        ("off_minimal_", 1, 0), ("ptr_minimal_", 0, 0), ("off_typical_", 1, 1),
        ("ptr_typical_", 0, 1), ("off_distro_", 1, 2), ("ptr_distro_", 0, 2),
    ]

    /// The flags of every compile: the i386 worker's, with the arch's -m, and the kernel's own
    /// dialect (wrapping arithmetic, no strict aliasing, NULL checks kept, as its Makefile has them).
    static func flags(_ arch: Arch) -> [String] {
        [arch == .i386 ? "-m32" : "-m64", "-std=gnu11", "-O2", "-DSKBREF_SINGLE_THREAD", "-DSKBREF_KERNEL_WORKER",
         "-ffreestanding", "-fno-builtin", "-nostdlib", "-nostdlibinc", "-static", "-fuse-ld=lld", "-fno-stack-protector",
         "-fno-pic", "-fno-strict-aliasing", "-fwrapv", "-fno-delete-null-pointer-checks", "-w"]
    }

    /// The include path of a kernel variant, in order: the generated files, the stand-in headers, the
    /// tree, the worker's libc and the harness.
    static func includes(generated: String, creference: String, tree: KernelTree) -> [String] {
        ["-I", generated, "-I", creference + "/kernel/include", "-I", tree.root + "/include", "-I", tree.root + "/net/core",
         "-I", creference + "/kernel", "-I", creference + "/worker/include", "-I", creference + "/worker",
         "-I", creference + "/include", "-I", creference + "/src"]
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// The CReference sources a kernel worker depends on.
    static func sources(_ creference: String) -> [String] {
        let fm = FileManager.default
        var all: [String] = []
        for sub in ["include", "src", "worker", "worker/include", "worker/include/sys", "kernel", "kernel/include/linux",
                    "kernel/include/asm", "kernel/include/net"] {
            let dir = creference + "/" + sub
            for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() where name.hasSuffix(".c") || name.hasSuffix(".h") {
                all.append(dir + "/" + name)
            }
        }
        return all
    }

    /// The worker for `arch` built from `tree` (or found already built) in `cacheDirectory`.
    /// `libclang` is asked for only when it must be built.
    public static func build(tree: KernelTree, arch: Arch, creference: String, clang: String, cacheDirectory: String,
                             extraFlags: [String] = [], roots: [(function: String, operation: String)] = KernelBuild.roots,
                             libclang: () throws -> LibClang) throws -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100000001b3 }
        }
        for (name, data) in tree.contents() {
            mix(name.utf8)
            mix(data)
        }
        for file in sources(creference) {
            mix(String(file.dropFirst(creference.count)).utf8)
            mix((try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data())
        }
        mix((flags(arch) + extraFlags + [clang] + roots.map(\.function)).joined(separator: " ").utf8)
        let output = cacheDirectory + "/skbk-worker-\(arch.rawValue)-" + String(hash, radix: 16)
        if FileManager.default.isExecutableFile(atPath: output) { return output }

        let work = output + ".\(getpid()).d"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let extraction = try extract(tree: tree, creference: creference, generated: work, roots: roots, libclang: libclang())
        try write(extraction, into: work)

        let common = flags(arch) + extraFlags
        var objects: [String] = []
        for v in variants {
            let object = work + "/\(v.prefix)kernel.o"
            let args = common + includes(generated: work, creference: creference, tree: tree)
                + ["-include", creference + "/kernel/skbk_env.h", "-DSKBREF_V_PREFIX=\(v.prefix)", "-DSKBREF_V_OFFSET=\(v.offset)",
                   "-DSKBREF_V_PROFILE=\(v.profile)", "-c", creference + "/kernel/kernel_variant.c", "-o", object]
            try compile(clang, args, what: "the tree's skbuff code (\(arch.rawValue), \(v.prefix.dropLast()))")
            objects.append(object)
        }
        let partial = output + ".\(getpid()).partial"
        let link = common + ["-I", creference + "/worker/include", "-I", creference + "/worker", "-I", creference + "/include",
                             "-I", creference + "/src",
                             creference + "/worker/freestanding.c", creference + "/worker/worker.c", creference + "/src/shim.c",
                             creference + "/src/driver.c"]
            + objects + ["-o", partial]
        do { try compile(clang, link, what: "the kernel worker (\(arch.rawValue))") } catch {
            unlink(partial)
            throw error
        }
        guard rename(partial, output) == 0 else {
            unlink(partial)
            throw Failure("cannot place the kernel worker at \(output): make \(cacheDirectory) writable")
        }
        return output
    }

    /// The parse of the tree's skbuff.c and the cut, with the arguments a variant compiles with.
    public static func extract(tree: KernelTree, creference: String, generated: String,
                               roots: [(function: String, operation: String)] = KernelBuild.roots,
                               libclang: LibClang) throws -> FunctionExtraction {
        // The parse needs skbk_names.h to exist (kernel_variant.c is not what is parsed, but the
        // stand-in's headers are): an empty one is enough.
        let names = generated + "/skbk_names.h"
        if !FileManager.default.fileExists(atPath: names) { _ = FileManager.default.createFile(atPath: names, contents: Data()) }
        let arguments = ["-x", "c", "-std=gnu11", "-ffreestanding", "-nostdlibinc", "-DSKBREF_SINGLE_THREAD", "-DSKBREF_KERNEL_WORKER",
                         "-DSKBREF_V_PREFIX=off_minimal_", "-DSKBREF_V_OFFSET=1", "-DSKBREF_V_PROFILE=0",
                         // The file's exports stand between the definitions, never inside one.
                         "-DEXPORT_SYMBOL(x)=", "-DEXPORT_SYMBOL_GPL(x)=",
                         "-include", creference + "/kernel/skbk_env.h"]
            + includes(generated: generated, creference: creference, tree: tree)
        var why: [String: String] = [:]
        for r in roots where why[r.function] == nil { why[r.function] = r.operation }
        do {
            return try libclang.extractFunctions(file: tree.root + "/net/core/skbuff.c", arguments: arguments,
                                                 roots: roots.map(\.function), why: why, provided: provided)
        } catch let e as LayoutError {
            throw Failure(e.message)
        }
    }

    /// skbk_names.h (each function taken gets the variant's prefix) and skbk_extracted.c (the pieces,
    /// each under a #line naming its place in the tree).
    static func write(_ x: FunctionExtraction, into directory: String) throws {
        var names = "/* Generated by skbdiff from \(x.file): the functions taken, renamed per variant. */\n"
        for name in x.functionNames { names += "#define \(name) SKBREF_SYM(\(name))\n" }
        var code = "/* Generated by skbdiff: cut out of \(x.file) by libclang, at the extents of its definitions. */\n"
        for piece in x.pieces {
            code += "#line \(piece.line) \"\(x.file)\"\n\(piece.text)\n"
        }
        try names.write(toFile: directory + "/skbk_names.h", atomically: true, encoding: .utf8)
        try code.write(toFile: directory + "/skbk_extracted.c", atomically: true, encoding: .utf8)
    }

    /// Run clang; a failure carries its first error lines (they name the tree's file and line).
    static func compile(_ clang: String, _ args: [String], what: String) throws {
        let (status, messages) = try I386Worker.runProcess(clang, args)
        guard status == 0 else {
            let lines = messages.split(separator: "\n").map(String.init)
            let errors = lines.filter { $0.contains("error") }
            let shown = (errors.isEmpty ? lines : errors).prefix(8).joined(separator: "\n  ")
            throw Failure("\(clang) could not compile \(what) (exit \(status)):\n  \(shown)")
        }
    }
}

extension KernelBuild {
    /// The kernel workers of the arches a run needs, built from the tree at `path` (or found built):
    /// what `--kernel-tree` does before any comparison. The CReference sources are the package's own
    /// (SKBDIFF_CREFERENCE overrides), clang the toolchain's (as for the i386 worker),
    /// SKBDIFF_KERNEL_WORKER_CFLAGS adds flags (CI's UndefinedBehaviorSanitizer), and libclang is
    /// found as `skbdiff layout` finds it (LIBCLANG_PATH, Debian's, the toolchain's).
    public static func prepare(tree: KernelTree, arches: Set<Arch>,
                               environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> [Arch: String] {
        let creference = env["SKBDIFF_CREFERENCE"] ?? I386Worker.packageCReference
        guard FileManager.default.fileExists(atPath: creference + "/kernel/kernel_variant.c") else {
            throw Failure("the CReference sources are not at \(creference): run skbdiff from its package checkout, or set SKBDIFF_CREFERENCE to its CReference directory")
        }
        guard let clang = I386Worker.findClang(environment: env) else {
            throw Failure("no clang found to build the kernel worker: put the Swift toolchain's usr/bin on PATH, or set SKBDIFF_CLANG")
        }
        let extra = (env["SKBDIFF_KERNEL_WORKER_CFLAGS"] ?? "").split(separator: " ").map(String.init)
        let cache = cacheDirectory(creference)
        var out: [Arch: String] = [:]
        var loaded: LibClang?
        for arch in Arch.allCases where arches.contains(arch) {
            out[arch] = try build(tree: tree, arch: arch, creference: creference, clang: clang, cacheDirectory: cache,
                                  extraFlags: extra) {
                if let loaded { return loaded }
                do {
                    let l = try LibClang.locate(LibClangSearch(environment: env))
                    loaded = l
                    return l
                } catch let e as LayoutError {
                    throw Failure("libclang is needed to read the tree's skbuff.c: \(e.message)")
                }
            }
        }
        return out
    }

    /// `.build/kernel-worker` beside CReference when it can be written, else a directory of the user's under /tmp.
    static func cacheDirectory(_ creference: String) -> String {
        let dir = URL(fileURLWithPath: creference).deletingLastPathComponent().appendingPathComponent(".build/kernel-worker").path
        if (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil, access(dir, W_OK) == 0 {
            return dir
        }
        let tmp = NSTemporaryDirectory() + "skbdiff-kernel-worker-\(getuid())"
        try? FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        return tmp
    }
}
