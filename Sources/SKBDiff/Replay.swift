import Foundation
import SKBuff

/// Replaying seed files: the regression corpus and saved findings.
public enum Replay {
    public struct Verdict: Sendable {
        public var path: String
        public var seed: SeedFile
        public var result: SequenceResult
        /// Expected outcomes or quirks that did not come true, as FILE:LINE: messages.
        public var mismatches: [String]

        /// Every implementation agreed (quirks aside) and every expectation held.
        public var agrees: Bool { result.failure == nil && mismatches.isEmpty }
    }

    /// The seed files named by `paths`: files as given, directories searched for *.skb, sorted.
    public static func files(_ paths: [String]) throws(SeedError) -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                throw SeedError(file: path, line: 0, message: "no such file or directory")
            }
            if isDir.boolValue {
                let found = (fm.enumerator(atPath: path)?.compactMap { $0 as? String } ?? [])
                    .filter { $0.hasSuffix(".\(SeedFile.fileExtension)") }.sorted()
                if found.isEmpty { throw SeedError(file: path, line: 0, message: "expected .skb seed files in this directory, found none") }
                out += found.map { (path as NSString).appendingPathComponent($0) }
            } else {
                out.append(path)
            }
        }
        return out
    }

    /// Reads a seed file line by line, in bounded memory whatever its size (SeedFile.maxCalls,
    /// SeedFile.maxLineBytes).
    public static func load(_ path: String) throws(SeedError) -> SeedFile {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SeedError(file: path, line: 0, message: "cannot read the file")
        }
        defer { try? handle.close() }
        var parser = SeedFile.Parser(file: path)
        var pending: [UInt8] = []
        var line = 1
        func feed(_ bytes: ArraySlice<UInt8>) throws(SeedError) {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw SeedError(file: path, line: line, message: "expected UTF-8 text")
            }
            try parser.feed(Substring(text), line: line)
            line += 1
        }
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 16) ?? Data() } catch {
                throw SeedError(file: path, line: line, message: "cannot read the file: \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            var start = chunk.startIndex
            while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
                pending += chunk[start..<newline]
                if pending.count > SeedFile.maxLineBytes {
                    throw SeedError(file: path, line: line, message: "expected lines of at most \(SeedFile.maxLineBytes) bytes")
                }
                try feed(pending[...])
                pending.removeAll(keepingCapacity: true)
                start = chunk.index(after: newline)
            }
            pending += chunk[start...]
            if pending.count > SeedFile.maxLineBytes {
                throw SeedError(file: path, line: line, message: "expected lines of at most \(SeedFile.maxLineBytes) bytes")
            }
        }
        try feed(pending[...])
        return try parser.finish()
    }

    /// Run a seed file. A call whose target cannot take it (empty, ended or frozen) is a malformed file.
    /// `externals`: the programs of `--impl` to compare (nil: Differential.externalPrograms).
    public static func run(_ seed: SeedFile, path: String, mutant: Mutant? = nil, kernelWorkers: [Arch: String]? = nil,
                           externals: [ExternalSpec]? = nil,
                           trace: ((Int, Call, [Divergence.View]) -> Void)? = nil) throws(SeedError) -> Verdict {
        let differential = Differential(target: seed.target,
                                        implementations: Differential.standardImplementations(seed.target, kernel: kernelWorkers),
                                        externals: externals)
        differential.switchOn(mutant)
        // Expected fields are checked on every implementation's view, after their call.
        var stateMismatches: [String] = []
        let result = differential.run(seed.calls) { i, call, views in
            trace?(i, call, views)
            for expected in seed.stateExpectations[i] ?? [] {
                // (An external implementation is judged by the model, not by the file's expectations.)
                for view in views where !view.lacking && view.given == nil {
                    for m in expected.mismatches(in: view.references, representation: view.representation) {
                        stateMismatches.append("\(path):\(seed.lines[i]): \(view.name): \(m)")
                    }
                }
            }
        }
        var mismatches: [String] = []
        if let skipped = result.ran.firstIndex(of: false) {
            let call = seed.calls[skipped]
            let message = "\(call.op.name) targets skb\(call.target), which is empty, freed or frozen by then; expected a live reference"
            // The file is malformed, unless a planted fault ended the reference early: then the fault shows.
            guard mutant != nil else { throw SeedError(file: path, line: seed.lines[skipped], message: message) }
            mismatches.append("\(path):\(seed.lines[skipped]): \(message)")
        }
        for (i, expected) in seed.expectations.sorted(by: { $0.key < $1.key }) where i < result.outcomes.count {
            let got = result.outcomes[i]
            if got != expected {
                mismatches.append("\(path):\(seed.lines[i]): expected \(SeedFile.render(expected)), got \(got.map(SeedFile.render) ?? "not run")")
            }
        }
        mismatches += stateMismatches
        // An external implementation that failed could not be checked: the file does not agree.
        for e in differential.externals { if let f = e.failure { mismatches.append("\(path): \(f)") } }
        if let quirks = seed.quirks, Set(quirks) != Set(result.quirks) {
            mismatches.append("\(path): expected quirks \(quirks.isEmpty ? "none" : quirks.joined(separator: " ")), met \(result.quirks.isEmpty ? "none" : result.quirks.joined(separator: " "))")
        }
        return Verdict(path: path, seed: seed, result: result, mismatches: mismatches)
    }
}
