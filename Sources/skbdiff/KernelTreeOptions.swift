import ArgumentParser
import Foundation
import SKBDiff
import SKBKernel
import SKBuff

/// `--kernel-tree DIR`: a Linux tree's own skbuff code as two more implementations, kernel-off and
/// kernel-ptr (Specs/kernel.md). Shared by the commands that compare implementations.
struct KernelTreeOptions: ParsableArguments {
    @Option(name: .customLong("kernel-tree"), help: ArgumentHelp("""
        A Linux kernel tree (2.6.24: the release tarball unpacked or a git checkout) whose own skbuff \
        code runs beside the model as kernel-off and kernel-ptr: skbdiff reads its Makefile, \
        include/linux/skbuff.h, net/core/skbuff.c and net/core/kmap_skb.h, cuts the helpers out with \
        libclang and builds them with the toolchain's clang (kept under .build/kernel-worker). \
        Default: $SKBDIFF_KERNEL_TREE.
        """, valueName: "DIR"))
    var kernelTree: String?

    /// The tree named, or nil.
    var path: String? { KernelTree.named(option: kernelTree) }

    /// Read the tree and build its workers for `arches`, then have every Differential compare it:
    /// nil without a tree. A tree that cannot be used ends the command with its reason (exit 2).
    @discardableResult
    func activate(arches: Set<Arch>, quiet: Bool = false) throws -> KernelTree? {
        guard let (tree, executables) = try workers(arches: arches, quiet: quiet) else { return nil }
        Differential.kernelWorkers.set(executables)
        return tree
    }

    /// The tree and its workers for `arches`, built or found, without making every Differential
    /// compare them: nil without a tree.
    func workers(arches: Set<Arch>, quiet: Bool = false) throws -> (KernelTree, [Arch: String])? {
        guard let path else { return nil }
        do {
            let tree = try KernelTree(path: path)
            if let warning = tree.versionWarning { printError("skbdiff: warning: \(warning)") }
            let started = Date()
            let executables = try KernelBuild.prepare(tree: tree, arches: arches)
            let took = Date().timeIntervalSince(started)
            if !quiet && took > 1 {
                printError(String(format: "skbdiff: built the kernel worker of %@ from %@ in %.1f s",
                                  Arch.allCases.filter(arches.contains).map(\.rawValue).joined(separator: " and "), tree.root, took))
            }
            return (tree, executables)
        } catch {
            printError("skbdiff: \(error)")
            throw ExitCode(2)
        }
    }
}
