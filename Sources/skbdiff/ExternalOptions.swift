import ArgumentParser
import Foundation
import SKBDiff
import SKBuff

/// `--impl NAME=COMMAND` (repeatable) and `--impl-timeout`: programs that join the comparison over
/// the line protocol of Specs/protocol.md. Shared by the commands that compare implementations.
struct ExternalOptions: ParsableArguments {
    @Option(name: .customLong("impl"), help: ArgumentHelp("""
        An external implementation, as NAME=COMMAND (repeatable): skbdiff starts COMMAND with /bin/sh \
        and speaks the line protocol of Specs/protocol.md with it over its stdin and stdout; its hello \
        says which operations, arches, representations and fields it has. It is compared, as \
        NAME-off or NAME-ptr, with the Swift model of its representation wherever the built-in \
        implementations agree.
        """, valueName: "NAME=COMMAND"))
    var impl: [String] = []

    @Option(name: .customLong("impl-timeout"), help: "Seconds an external implementation may take to answer one line, before it is stopped.")
    var implTimeout: Double = 10

    func validate() throws {
        for i in impl where !i.contains("=") {
            throw ValidationError("--impl expected NAME=COMMAND, found '\(i)'")
        }
        guard implTimeout > 0 else { throw ValidationError("--impl-timeout expected a positive number of seconds, found \(implTimeout)") }
    }

    /// Start each program, check its hello, and have every Differential compare them: [] without
    /// --impl. A program that cannot start or answers its hello wrong ends the command (exit 2).
    @discardableResult
    func activate(quiet: Bool = false) throws -> [ExternalSpec] {
        var specs: [ExternalSpec] = []
        for i in impl {
            let parts = i.split(separator: "=", maxSplits: 1).map(String.init)
            do {
                let spec = try ExternalSpec.connect(name: parts[0], command: parts.count > 1 ? parts[1] : "", timeout: implTimeout)
                guard !specs.contains(where: { $0.name == spec.name }) else {
                    printError("skbdiff: --impl names \(spec.name) twice; expected one NAME per implementation")
                    throw ExitCode(2)
                }
                specs.append(spec)
                if !quiet {
                    let c = spec.capabilities
                    let fields = SKBState.fieldNames.filter { !c.fields.contains($0) }
                    printError("skbdiff: \(spec.name): \(c.operations.count) operations, \(Arch.allCases.filter(c.arches.contains).map(\.rawValue).joined(separator: " and ")), "
                               + c.representations.map { $0 == .offset ? "off" : "ptr" }.joined(separator: " and ")
                               + (fields.isEmpty ? "; every field" : "; fields not compared: \(fields.joined(separator: ", "))")
                               + (c.lacking.isEmpty ? "" : "; a sequence calling another operation stops being compared for it there"))
                }
            } catch let e as ExternalError {
                printError("skbdiff: --impl \(i): \(e)")
                throw ExitCode(2)
            }
        }
        Differential.externalPrograms.set(specs)
        return specs
    }

    /// The options that reproduce a finding with these programs, for a replay hint.
    var replayArguments: String {
        impl.map { "--impl '\($0.replacingOccurrences(of: "'", with: "'\\''"))' " }.joined()
    }
}

/// `--ops LIST`: restrict the generator to some operations.
struct OperationsOption: ParsableArguments {
    @Option(name: .customLong("ops"), help: ArgumentHelp("""
        Draw only these operations (comma-separated names from 'skbdiff ops', e.g. \
        alloc_skb,skb_reserve,skb_put); at least one allocator. The summary says what was left out.
        """, valueName: "LIST"))
    var ops: String?

    func validate() throws { _ = try parsed() }

    func parsed() throws -> Set<SKBDiff.Operation>? {
        guard let ops else { return nil }
        var set: Set<SKBDiff.Operation> = []
        for name in ops.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let op = SKBDiff.Operation.byName[name] else {
                throw ValidationError("--ops: unknown operation '\(name)'; expected names from 'skbdiff ops'")
            }
            set.insert(op)
        }
        guard set.contains(where: { !$0.takesTarget && $0 != .fail_next_alloc }) else {
            throw ValidationError("--ops expected at least one allocator (alloc_skb, alloc_skb_fclone, dev_alloc_skb or alloc_skb_from_cache), found '\(ops)'")
        }
        return set
    }
}
