import SKBuff

/// A malformed seed file: where, and what was expected there.
public struct SeedError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// A `.skb` seed file: plain text, one call per line (the kernel helper's name, its target `skbN`
/// and its integer arguments), `#` comments, and a header with the format version, the target, and
/// where the sequence came from. A call may end with `=> OUTCOME`, and then with fields expected
/// after it, `| skbN field=value ...` per reference (snapshot field names; values as integers, hex
/// or decimal, or `unset`, `wild`, `none`; `OFF/PTR` where the representations differ, as truesize
/// does with sizeof(struct sk_buff)), which replay checks on every implementation.
///
///     # skbdiff seed 1
///     # target: arch=x86_64 config=minimal cache-line=128
///     # quirks: put-wrap
///     alloc_skb 100 | skb0 end=128 truesize=384
///     skb_put skb0 4294967200 => ok 0
public struct SeedFile: Sendable {
    public static let formatVersion = 1
    public static let fileExtension = "skb"

    public var target: Target
    public var calls: [Call]
    /// The source line of each call (1-based), for messages.
    public var lines: [Int]
    /// Expected outcomes, by call index.
    public var expectations: [Int: Outcome]
    /// Expected fields after a call, by call index.
    public var stateExpectations: [Int: [StateExpectation]] = [:]
    /// The catalogued quirks the sequence is expected to meet (nil: not checked).
    public var quirks: [String]?
    public var generatorSeed: UInt64?
    public var iteration: UInt64?
    /// A one-line description of the divergence the sequence shows, for findings.
    public var divergence: String?

    public init(target: Target, calls: [Call], expectations: [Int: Outcome] = [:], quirks: [String]? = nil,
                generatorSeed: UInt64? = nil, iteration: UInt64? = nil, divergence: String? = nil) {
        self.target = target
        self.calls = calls
        self.lines = calls.indices.map { $0 + 1 }
        self.expectations = expectations
        self.quirks = quirks
        self.generatorSeed = generatorSeed
        self.iteration = iteration
        self.divergence = divergence
    }

    // MARK: Writing

    public func render() -> String {
        var out = "# skbdiff seed \(SeedFile.formatVersion)\n"
        out += "# target: arch=\(target.arch.rawValue) config=\(target.config.rawValue) cache-line=\(target.cacheLine)\n"
        if let generatorSeed, let iteration {
            out += "# generator: seed=0x\(String(generatorSeed, radix: 16)) iteration=\(iteration)\n"
        }
        if let divergence { out += "# divergence: \(divergence)\n" }
        if let quirks { out += "# quirks: \(quirks.isEmpty ? "none" : quirks.joined(separator: " "))\n" }
        for (i, call) in calls.enumerated() {
            out += SeedFile.render(call)
            if let e = expectations[i] { out += " => \(SeedFile.render(e))" }
            for e in stateExpectations[i] ?? [] { out += " | " + e.rendered }
            out += "\n"
        }
        return out
    }

    public static func render(_ call: Call) -> String {
        var words = [call.op.name]
        if call.op.takesTarget { words.append("skb\(call.target)") }
        words += call.args.map(String.init)
        return words.joined(separator: " ")
    }

    public static func render(_ outcome: Outcome) -> String {
        switch outcome {
        case let .ok(v): return "ok \(v)"
        case .null: return "NULL"
        case let .error(e): return "error \(e)"
        case .panicOver: return "panic over"
        case .panicUnder: return "panic under"
        case let .bug(b): return "BUG \(b.name)"
        case .overflow: return "overflow"
        }
    }

    // MARK: Reading

    public static func parse(_ text: String, file: String) throws(SeedError) -> SeedFile {
        var parser = Parser(file: file)
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            try parser.feed(raw, line: n + 1)
        }
        return try parser.finish()
    }

    /// The most calls a seed file may hold: seed files are shrunk findings and hand-written worked
    /// examples, so a longer one is a mistake, and the cap keeps reading any file in bounded memory.
    public static let maxCalls = 100_000
    /// The longest line read, in bytes.
    public static let maxLineBytes = 65_536

    /// Reads a seed file line by line.
    struct Parser {
        let file: String
        var target: Target?
        var calls: [Call] = []
        var lines: [Int] = []
        var expectations: [Int: Outcome] = [:]
        var stateExpectations: [Int: [StateExpectation]] = [:]
        var quirks: [String]?
        var seed: UInt64?
        var iteration: UInt64?
        var divergence: String?
        var sawVersion = false
        var references = 0

        init(file: String) { self.file = file }

        func fail(_ line: Int, _ message: String) -> SeedError { SeedError(file: file, line: line, message: message) }

        mutating func feed(_ raw: Substring, line: Int) throws(SeedError) {
            let trimmed = raw.stripped
            if trimmed.isEmpty { return }
            if !sawVersion {
                guard trimmed.hasPrefix("#"), trimmed.dropFirst().stripped.hasPrefix("skbdiff seed") else {
                    throw fail(line, "expected the header '# skbdiff seed \(formatVersion)' first")
                }
                let version = trimmed.split(separator: " ").last.flatMap { Int($0) }
                guard version == formatVersion else {
                    throw fail(line, "expected seed format version \(formatVersion), found '\(trimmed)'")
                }
                sawVersion = true
                return
            }
            if trimmed.hasPrefix("#") {
                let body = trimmed.dropFirst().stripped
                guard calls.isEmpty, let colon = body.firstIndex(of: ":") else { return }
                let key = body[..<colon].stripped
                let value = body[body.index(after: colon)...].stripped
                switch key {
                case "target": target = try parseTarget(value, line: line, file: file)
                case "quirks":
                    let ids = value == "none" ? [] : value.split(separator: " ").map(String.init)
                    for id in ids where Quirk.byID[id] == nil {
                        throw fail(line, "unknown quirk '\(id)'; expected one of \(Quirk.catalogue.map(\.id).joined(separator: ", ")) or none")
                    }
                    quirks = ids
                case "generator":
                    for pair in value.split(separator: " ") {
                        let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                        guard kv.count == 2, let v = parseUnsigned(kv[1]) else { throw fail(line, "expected 'seed=N iteration=N', found '\(pair)'") }
                        if kv[0] == "seed" { seed = v } else if kv[0] == "iteration" { iteration = v }
                    }
                case "divergence": divergence = value
                default: return
                }
                return
            }
            guard let t = target else { throw fail(line, "expected '# target: arch=... config=... cache-line=...' before the first call") }
            _ = t
            // A call: name [skbN] args... [=> outcome] [| skbN field=value ...]... [# comment]
            var content = Substring(trimmed)
            if let hash = content.firstIndex(of: "#") { content = content[..<hash] }
            var stateClauses: [Substring] = []
            if let bar = content.firstIndex(of: "|") {
                stateClauses = content[content.index(after: bar)...].split(separator: "|", omittingEmptySubsequences: false)
                content = content[..<bar]
            }
            var expectation: Outcome?
            if let arrow = content.range(of: "=>") {
                expectation = try parseOutcome(content[arrow.upperBound...].stripped, line: line, file: file)
                content = content[..<arrow.lowerBound]
            }
            var words = content.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let name = words.first else { throw fail(line, "expected a helper name") }
            guard let op = Operation.byName[name] else {
                throw fail(line, "unknown helper '\(name)'; expected one of the \(Operation.allCases.count) in 'skbdiff ops'")
            }
            words.removeFirst()
            var targetRef = -1
            if op.takesTarget {
                guard let first = words.first, first.hasPrefix("skb"), let r = Int(first.dropFirst(3)), r >= 0 else {
                    throw fail(line, "\(name) expected its target as skbN first, found '\(words.first ?? "nothing")'")
                }
                guard r < references else {
                    let existing = switch references {
                    case 0: "no reference exists here yet (an allocating call such as alloc_skb makes skb0)"
                    case 1: "only 1 reference exists here (skb0)"
                    default: "only \(references) references exist here (skb0 to skb\(references - 1))"
                    }
                    throw fail(line, "\(name) targets skb\(r), but \(existing)")
                }
                targetRef = r
                words.removeFirst()
            }
            let params = op.info.arguments
            guard words.count == params.count else {
                let expected = params.isEmpty ? "no arguments" : params.map { "\($0.name) (\($0.kind.cName))" }.joined(separator: ", ")
                throw fail(line, "\(name) expected \(expected), found \(words.count) argument\(words.count == 1 ? "" : "s")")
            }
            var args: [Int64] = []
            for (word, p) in zip(words, params) {
                guard let v = parseSigned(word) else { throw fail(line, "\(name): \(p.name) expected an integer, found '\(word)'") }
                guard p.kind.range.contains(v) else {
                    throw fail(line, "\(name): \(p.name) is \(p.kind.cName), expected \(p.kind.range.lowerBound)...\(p.kind.range.upperBound), found \(word)")
                }
                args.append(v)
            }
            if let expectation { expectations[calls.count] = expectation }
            calls.append(Call(op, target: targetRef, args))
            lines.append(line)
            if op.effect == .produces { references += 1 }
            if !stateClauses.isEmpty {
                stateExpectations[calls.count - 1] = try stateClauses.map { clause throws(SeedError) in
                    try StateExpectation.parse(clause.stripped, references: references, line: line, file: file)
                }
            }
            if calls.count > SeedFile.maxCalls {
                throw fail(line, "expected at most \(SeedFile.maxCalls) calls in a seed file")
            }
        }

        func finish() throws(SeedError) -> SeedFile {
            guard sawVersion else { throw fail(1, "expected the header '# skbdiff seed \(formatVersion)'; the file is empty") }
            guard let target else { throw fail(1, "expected a '# target: arch=... config=... cache-line=...' line") }
            var seedFile = SeedFile(target: target, calls: calls, expectations: expectations, quirks: quirks,
                                    generatorSeed: seed, iteration: iteration, divergence: divergence)
            seedFile.lines = lines
            seedFile.stateExpectations = stateExpectations
            return seedFile
        }
    }

    static func parseTarget(_ value: String, line: Int, file: String) throws(SeedError) -> Target {
        var arch = Arch.x86_64, config = ConfigProfile.minimal, cache: UInt32 = 128
        for pair in value.split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw SeedError(file: file, line: line, message: "expected key=value in the target, found '\(pair)'") }
            switch kv[0] {
            case "arch":
                guard let a = Arch(rawValue: kv[1]) else { throw SeedError(file: file, line: line, message: "arch expected i386 or x86_64, found '\(kv[1])'") }
                arch = a
            case "config":
                guard let c = ConfigProfile(rawValue: kv[1]) else { throw SeedError(file: file, line: line, message: "config expected minimal, typical or distro, found '\(kv[1])'") }
                config = c
            case "cache-line":
                guard let c = UInt32(kv[1]), Target.allowedCacheLines.contains(c) else {
                    throw SeedError(file: file, line: line, message: "cache-line expected 16, 32, 64 or 128, found '\(kv[1])'")
                }
                cache = c
            default:
                throw SeedError(file: file, line: line, message: "unknown target key '\(kv[0])'; expected arch, config or cache-line")
            }
        }
        return Target(arch: arch, config: config, cacheLine: cache)
    }

    static func parseOutcome(_ text: String, line: Int, file: String) throws(SeedError) -> Outcome {
        let words = text.split(separator: " ").map(String.init)
        let expected = "expected an outcome: ok [N], NULL, error N, panic over, panic under, BUG NAME or overflow"
        switch words.first {
        case "ok"?:
            if words.count == 1 { return .ok(0) }
            guard words.count == 2, let v = parseSigned(words[1]) else { break }
            return .ok(v)
        case "NULL"?: if words.count == 1 { return .null }
        case "error"?:
            guard words.count == 2, let v = parseSigned(words[1]) else { break }
            return .error(v)
        case "panic"?:
            if words == ["panic", "over"] { return .panicOver }
            if words == ["panic", "under"] { return .panicUnder }
        case "BUG"?:
            if words.count == 2, let b = BugCheck.allCases.first(where: { $0.name == words[1] }) { return .bug(b) }
            throw SeedError(file: file, line: line, message: "expected a BUG check: \(BugCheck.allCases.map(\.name).joined(separator: ", "))")
        case "overflow"?: if words.count == 1 { return .overflow }
        default: break
        }
        throw SeedError(file: file, line: line, message: "\(expected), found '\(text)'")
    }

    static func parseSigned(_ s: String) -> Int64? {
        if s.hasPrefix("-") { return parseUnsigned(String(s.dropFirst())).flatMap { $0 <= UInt64(Int64.max) ? -Int64($0) : nil } }
        return parseUnsigned(s).flatMap { $0 <= UInt64(Int64.max) ? Int64($0) : nil }
    }

    static func parseUnsigned(_ s: String) -> UInt64? {
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
        return UInt64(s)
    }
}

extension StringProtocol {
    /// Without leading and trailing blanks.
    var stripped: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

/// Fields of one reference expected after a call: `skb1 cloned=1 truesize=448`.
public struct StateExpectation: Sendable, Equatable {
    public var reference: Int
    /// Each field's expected value under OFF and under PTR (the same unless written `OFF/PTR`).
    public var fields: [(name: String, off: FieldValue, ptr: FieldValue)]

    /// A snapshot field's value as a seed file states it: an integer, or a word (unset, wild, none).
    public enum FieldValue: Sendable, Equatable, CustomStringConvertible {
        case int(Int64)
        case word(String)

        public var description: String {
            switch self {
            case let .int(v): return String(v)
            case let .word(w): return w
            }
        }
    }

    /// The fields a clause may name: the snapshot's, and `frozen`.
    public static let fieldNames = SKBState.fieldNames + ["frozen"]
    static let valueWords = ["unset", "wild", "none"]
    /// Fields whose values read better in hex, as reports print them.
    static let hexFields: Set<String> = ["dataref", "csum", "digest"]

    /// A value as a seed file writes it for a field.
    static func display(_ value: FieldValue, of name: String) -> String {
        if case let .int(v) = value, hexFields.contains(name) { return "0x" + String(UInt64(bitPattern: v), radix: 16) }
        return value.description
    }

    public static func == (a: StateExpectation, b: StateExpectation) -> Bool {
        a.reference == b.reference && a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.off) == b.fields.map(\.off)
            && a.fields.map(\.ptr) == b.fields.map(\.ptr)
    }

    public var rendered: String {
        (["skb\(reference)"] + fields.map { f in
            "\(f.name)=" + StateExpectation.display(f.off, of: f.name) + (f.off == f.ptr ? "" : "/" + StateExpectation.display(f.ptr, of: f.name))
        }).joined(separator: " ")
    }

    static func parse(_ text: String, references: Int, line: Int, file: String) throws(SeedError) -> StateExpectation {
        func fail(_ message: String) -> SeedError { SeedError(file: file, line: line, message: message) }
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first, first.hasPrefix("skb"), let r = Int(first.dropFirst(3)), r >= 0 else {
            throw fail("expected 'skbN field=value ...' after '|', found '\(text)'")
        }
        guard r < references else {
            throw fail("expected fields of skb\(r), but only \(references) reference\(references == 1 ? "" : "s") exist\(references == 1 ? "s" : "") after this call")
        }
        guard words.count > 1 else { throw fail("expected field=value after skb\(r)") }
        var fields: [(name: String, off: FieldValue, ptr: FieldValue)] = []
        for word in words.dropFirst() {
            let kv = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard kv.count == 2, fieldNames.contains(kv[0]) else {
                throw fail("expected field=value with a snapshot field (\(fieldNames.joined(separator: ", "))), found '\(word)'")
            }
            let pair = kv[1].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pair.count <= 2, let off = parseValue(pair[0]), let ptr = parseValue(pair.last!) else {
                throw fail("\(kv[0]) expected an integer or one of \(valueWords.joined(separator: ", ")) (OFF/PTR when they differ), found '\(kv[1])'")
            }
            fields.append((kv[0], off, ptr))
        }
        return StateExpectation(reference: r, fields: fields)
    }

    static func parseValue(_ text: String) -> FieldValue? {
        if let v = SeedFile.parseSigned(text) { return .int(v) }
        // A digest may use all 64 bits.
        if let u = SeedFile.parseUnsigned(text) { return .int(Int64(bitPattern: u)) }
        return valueWords.contains(text) ? .word(text) : nil
    }

    /// The value a reference's snapshot has for a field, in the same terms.
    public static func value(of name: String, in reference: ReferenceState) -> FieldValue? {
        if name == "frozen" { return .int(reference.frozen ? 1 : 0) }
        guard let field = SKBState.table.first(where: { $0.name == name }) else { return nil }
        let text = field.render(reference.state)
        if name == "digest", let u = UInt64(text, radix: 16) { return .int(Int64(bitPattern: u)) }
        if text.hasPrefix("0x"), let u = UInt64(text.dropFirst(2), radix: 16) { return .int(Int64(bitPattern: u)) }
        return Int64(text).map(FieldValue.int) ?? .word(text)
    }

    /// What does not hold in one implementation's view of the references after the call.
    public func mismatches(in references: [ReferenceState], representation: RepresentationKind) -> [String] {
        guard let ref = references.first(where: { $0.reference == reference }) else { return ["skb\(reference) is not live"] }
        return fields.compactMap { f in
            let expected = representation == .offset ? f.off : f.ptr
            let got = StateExpectation.value(of: f.name, in: ref)
            return got == expected ? nil : "skb\(reference) \(f.name) expected \(StateExpectation.display(expected, of: f.name)), got "
                + (got.map { StateExpectation.display($0, of: f.name) } ?? "nothing")
        }
    }
}
