import Foundation
import SKBuff

/// What a program speaking the line protocol (Specs/protocol.md) said in its hello: the operations,
/// arches and representations it implements and the snapshot fields it gives.
public struct ExternalCapabilities: Sendable, Equatable {
    public var version: Int
    public var operations: Set<Operation>
    public var arches: Set<Arch>
    public var representations: [RepresentationKind]
    /// Snapshot fields (SKBState.fieldNames), in catalogue order.
    public var fields: [String]

    /// The protocol version this skbdiff speaks.
    public static let protocolVersion = 1

    /// The hello line: `hello version=1 ops=alloc_skb,skb_put [arches=x86_64] [representations=off]
    /// [fields=data,tail]`. Throws a message saying what was expected.
    public static func parse(hello line: String) throws(ExternalError) -> ExternalCapabilities {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let form = "expected 'hello version=\(protocolVersion) ops=NAME,... [arches=...] [representations=off,ptr] [fields=...]'"
        guard words.first == "hello" else { throw ExternalError("sent '\(ExternalError.clip(line))' as its hello; \(form)") }
        var caps = ExternalCapabilities(version: 0, operations: [], arches: Set(Arch.allCases),
                                        representations: RepresentationKind.allCases, fields: SKBState.fieldNames)
        var sawOps = false
        for word in words.dropFirst() {
            let kv = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ExternalError("sent '\(word)' in its hello; \(form)") }
            let values = kv[1].split(separator: ",").map(String.init)
            switch kv[0] {
            case "version":
                guard let v = Int(kv[1]) else { throw ExternalError("sent version '\(kv[1])'; expected an integer") }
                caps.version = v
            case "ops":
                sawOps = true
                if values == ["all"] { caps.operations = Set(Operation.allCases); continue }
                for v in values {
                    guard let op = Operation.byName[v] else {
                        throw ExternalError("named operation '\(v)' in its hello; expected names from 'skbdiff ops' or all")
                    }
                    caps.operations.insert(op)
                }
            case "arches":
                caps.arches = []
                for v in values {
                    guard let a = Arch(rawValue: v) else { throw ExternalError("named arch '\(v)' in its hello; expected i386 or x86_64") }
                    caps.arches.insert(a)
                }
            case "representations":
                var reps: Set<RepresentationKind> = []
                for v in values {
                    switch v {
                    case "off": reps.insert(.offset)
                    case "ptr": reps.insert(.pointer)
                    default: throw ExternalError("named representation '\(v)' in its hello; expected off or ptr")
                    }
                }
                caps.representations = RepresentationKind.allCases.filter(reps.contains)
            case "fields":
                let known = Set(SKBState.fieldNames)
                for v in values where !known.contains(v) {
                    throw ExternalError("named field '\(v)' in its hello; expected snapshot fields: \(SKBState.fieldNames.joined(separator: ", "))")
                }
                caps.fields = SKBState.fieldNames.filter(Set(values).contains)
            default:
                throw ExternalError("sent key '\(kv[0])' in its hello; \(form)")
            }
        }
        guard caps.version == protocolVersion else {
            throw ExternalError("speaks protocol version \(caps.version); this skbdiff speaks version \(protocolVersion)")
        }
        guard sawOps, !caps.operations.isEmpty else { throw ExternalError("named no operations in its hello; \(form)") }
        guard !caps.arches.isEmpty, !caps.representations.isEmpty else {
            throw ExternalError("named no arch or no representation in its hello")
        }
        return caps
    }

    /// The operations it lacks, by name (for the summary).
    public var lacking: [String] { Operation.allCases.filter { !operations.contains($0) }.map(\.name) }
}

/// A program's failure to keep to the protocol (or to start): the message names what it did.
public struct ExternalError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }

    /// At most 200 characters of what a program sent, for a message.
    static func clip(_ s: String) -> String { s.count <= 200 ? s : String(s.prefix(200)) + "..." }
}

/// `--impl NAME=COMMAND`: a program that joins the comparison, and what its hello said.
public struct ExternalSpec: Sendable {
    public var name: String
    public var command: String
    public var capabilities: ExternalCapabilities
    /// Seconds a reply may take.
    public var timeout: Double

    /// Start the program once, check its hello, and keep it for the first comparison. A program that
    /// cannot start or says something else than a hello is an error naming it.
    public static func connect(name: String, command: String, timeout: Double) throws(ExternalError) -> ExternalSpec {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
            throw ExternalError("--impl expected NAME=COMMAND with NAME of letters, digits, '_' or '.', found '\(name)'")
        }
        let process = try ExternalProcess(command: command)
        let caps: ExternalCapabilities
        do {
            caps = try process.handshake(timeout: timeout)
        } catch {
            throw ExternalError("\(name) (\(command)) \(error.description)")
        }
        let spec = ExternalSpec(name: name, command: command, capabilities: caps, timeout: timeout)
        ExternalProcess.checkIn(process, spec)
        return spec
    }
}

/// The external programs of `--impl`, set once by the command line before any Differential is made;
/// every Differential then compares them on the targets they support.
public final class ExternalRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var specs: [ExternalSpec] = []
    private var messages = 0

    public func set(_ s: [ExternalSpec]) { lock.withLock { specs = s } }
    public var all: [ExternalSpec] { lock.withLock { specs } }

    /// Report a program's failure on stderr (the first 20; then a count at the end).
    func report(_ message: String) {
        let n = lock.withLock { messages += 1; return messages }
        if n <= 20 {
            FileHandle.standardError.write(Data("skbdiff: \(message)\n".utf8))
        } else if n == 21 {
            FileHandle.standardError.write(Data("skbdiff: (further failures of external implementations are counted, not printed)\n".utf8))
        }
    }
}

/// One running program: its pipes, and lines read with a deadline.
final class ExternalProcess {
    let pid: pid_t
    private let toProgram: Int32
    private let fromProgram: Int32
    private var buffer: [UInt8] = []
    private var exited = false
    private var status: Int32 = 0
    /// Longest line read.
    static let maxLine = 1 << 20

    init(command: String) throws(ExternalError) {
        switch WorkerProcess.spawn("/bin/sh", ["sh", "-c", command]) {
        case let .success(child):
            pid = child.pid
            toProgram = child.input
            fromProgram = child.output
        case let .failure(e):
            throw ExternalError("cannot start '\(command)' with /bin/sh: \(e)")
        }
    }

    deinit {
        close(toProgram)
        close(fromProgram)
        guard !exited else { return }
        // It should end on end of input; one that does not is killed after a moment.
        for _ in 0..<20 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(5000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// Say the protocol's first line and read the hello.
    func handshake(timeout: Double) throws(ExternalError) -> ExternalCapabilities {
        try send("skbdiff \(ExternalCapabilities.protocolVersion)")
        return try ExternalCapabilities.parse(hello: receive(timeout: timeout, waitingFor: "its hello"))
    }

    func send(_ line: String) throws(ExternalError) {
        var bytes = Array(line.utf8)
        bytes.append(10)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(toProgram, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ExternalError(ended(reading: false)) }
            done += n
        }
    }

    /// The next line (without its newline), or an error: the program ended, stayed silent past the
    /// deadline (it is then killed), or sent a line too long.
    func receive(timeout: Double, waitingFor what: String) throws(ExternalError) -> String {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            guard buffer.count <= ExternalProcess.maxLine else {
                throw ExternalError("sent a line longer than \(ExternalProcess.maxLine) bytes waiting for \(what)")
            }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                kill(pid, SIGKILL)
                throw ExternalError("sent nothing for \(timeout) s waiting for \(what) (--impl-timeout), and was stopped")
            }
            var fds = pollfd(fd: fromProgram, events: Int16(POLLIN), revents: 0)
            let r = poll(&fds, 1, Int32(min(Int64(Int32.max), Int64((deadline - now) / 1_000_000) + 1)))
            if r < 0 && errno == EINTR { continue }
            if r == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fromProgram, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let partial = buffer.isEmpty ? "" : " after '\(ExternalError.clip(String(decoding: buffer, as: UTF8.self)))' without a newline"
                throw ExternalError(ended(reading: true) + partial + " waiting for \(what)")
            }
            buffer += chunk[..<n]
        }
    }

    /// How the program ended, once its pipe broke.
    private func ended(reading: Bool) -> String {
        if !exited {
            // The pipe closes as the program exits; give it a moment to be reaped.
            for _ in 0..<200 {
                if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
                usleep(1000)
            }
        }
        guard exited else { return reading ? "closed its output" : "closed its input" }
        if status & 0x7f != 0 { return "died of signal \(status & 0x7f)\(status & 0x7f == SIGKILL ? "" : " (a crash)")" }
        let code = (status >> 8) & 0xff
        // Through /bin/sh a crash is the shell's exit status 128 + the signal.
        return "exited with status \(code)" + (code > 128 && code < 160 ? " (128 + signal \(code - 128): a crash)" : "")
    }

    // MARK: The pool

    /// Programs that finished a sequence in good order, by command, for the next Differential.
    private static let pool = Mutex<[String: [ExternalProcess]]>([:])

    static func checkOut(_ spec: ExternalSpec) throws(ExternalError) -> ExternalProcess {
        if let p = pool.withLock({ $0[spec.command]?.popLast() }) { return p }
        let p = try ExternalProcess(command: spec.command)
        let caps = try p.handshake(timeout: spec.timeout)
        guard caps == spec.capabilities else { throw ExternalError("said another hello than at its start") }
        return p
    }

    static func checkIn(_ p: ExternalProcess, _ spec: ExternalSpec) {
        pool.withLock { $0[spec.command, default: []].append(p) }
    }
}

/// One external program as a participant of a Differential: one representation on its target. It
/// is sent each call the Swift model of its representation runs, and its reply is compared with
/// that model's view (Specs/protocol.md).
public final class ExternalImplementation {
    public let spec: ExternalSpec
    public let representation: RepresentationKind
    let target: Target
    public let name: String
    private var process: ExternalProcess?
    private let registry: ExternalRegistry
    /// This sequence: the target line was sent; the program is no longer compared (it lacks an
    /// operation, or failed); calls compared; the failure's message.
    private var started = false
    private(set) var stopped = false
    private(set) var compared = 0
    private(set) var lacked = false
    public private(set) var failure: String?
    /// The last reply, parsed: its outcome and its references' fields, as text.
    private(set) var lastReply = ""
    private(set) var lastOutcome: Outcome?
    private(set) var lastFields: [Int: [(name: String, value: StateExpectation.FieldValue)]] = [:]

    init(spec: ExternalSpec, representation: RepresentationKind, target: Target, registry: ExternalRegistry) {
        self.spec = spec
        self.representation = representation
        self.target = target
        self.registry = registry
        name = "\(spec.name)-\(representation == .offset ? "off" : "ptr")"
    }

    /// A program in good order (a failure dropped its process) serves the next Differential: the
    /// target line of its next sequence starts it afresh.
    deinit {
        if let process { ExternalProcess.checkIn(process, spec) }
    }

    public func reset() {
        started = false
        stopped = false
        compared = 0
        lacked = false
        failure = nil
    }

    public func supports(_ op: Operation) -> Bool { spec.capabilities.operations.contains(op) }

    /// What became of a call sent.
    public enum Result {
        case replied
        /// Not compared from here on in this sequence (it lacks the operation, or failed).
        case stopped
    }

    /// Send the call (the sequence's target first) and read the reply into `lastOutcome` and
    /// `lastFields`.
    public func run(_ call: Call) -> Result {
        guard !stopped else { return .stopped }
        guard supports(call.op) else {
            stopped = true
            lacked = true
            return .stopped
        }
        let line = SeedFile.render(call)
        do throws(ExternalError) {
            if process == nil { process = try ExternalProcess.checkOut(spec) }
            let p = process!
            if !started {
                try p.send("target arch=\(target.arch.rawValue) config=\(target.config.rawValue) cache-line=\(target.cacheLine) representation=\(representation == .offset ? "off" : "ptr")")
                let ready = try p.receive(timeout: spec.timeout, waitingFor: "'ready' after the target")
                guard ready == "ready" else { throw ExternalError("sent '\(ExternalError.clip(ready))' after the target line; expected 'ready'") }
                started = true
            }
            try p.send(line)
            lastReply = try p.receive(timeout: spec.timeout, waitingFor: "its reply to '\(line)'")
            if lastReply == "unsupported" {
                stopped = true
                lacked = true
                return .stopped
            }
            try parse(lastReply)
            compared += 1
            return .replied
        } catch {
            fail("\(name) (\(spec.command)) on \(target) at '\(line)': \(error.description)")
            return .stopped
        }
    }

    /// End this sequence for the program: the message is reported, the process dropped (a new one
    /// starts for the next sequence).
    private func fail(_ message: String) {
        stopped = true
        failure = message
        process = nil
        registry.report(message)
    }

    private func parse(_ reply: String) throws(ExternalError) {
        let form = "expected '=> OUTCOME | skbN field=value ...' (Specs/protocol.md)"
        guard reply.hasPrefix("=>") else { throw ExternalError("sent '\(ExternalError.clip(reply))'; \(form)") }
        let clauses = reply.dropFirst(2).split(separator: "|", omittingEmptySubsequences: false).map(\.stripped)
        do {
            lastOutcome = try SeedFile.parseOutcome(clauses[0], line: 0, file: "")
        } catch {
            throw ExternalError("sent '\(ExternalError.clip(reply))': \(error.message)")
        }
        lastFields.removeAll(keepingCapacity: true)
        let declared = spec.capabilities.fields
        for clause in clauses.dropFirst() where !clause.isEmpty {
            let words = clause.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first, first.hasPrefix("skb"), let r = Int(first.dropFirst(3)), r >= 0 else {
                throw ExternalError("sent '\(ExternalError.clip(reply))': expected 'skbN field=value ...' after '|', found '\(ExternalError.clip(clause))'")
            }
            guard lastFields[r] == nil else { throw ExternalError("sent '\(ExternalError.clip(reply))': skb\(r) twice") }
            var fields: [(name: String, value: StateExpectation.FieldValue)] = []
            for word in words.dropFirst() {
                let kv = word.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2, let v = StateExpectation.parseValue(kv[1]) else {
                    throw ExternalError("sent '\(ExternalError.clip(reply))': expected field=value, found '\(word)'")
                }
                guard declared.contains(kv[0]) else {
                    throw ExternalError("sent field '\(kv[0])', which its hello did not name (fields=\(declared.joined(separator: ",")))")
                }
                fields.append((kv[0], v))
            }
            let missing = declared.filter { d in !fields.contains { $0.name == d } }
            guard missing.isEmpty else {
                throw ExternalError("sent '\(ExternalError.clip(reply))': skb\(r) lacks \(missing.joined(separator: ", ")), which its hello named")
            }
            lastFields[r] = fields
        }
    }

    /// The last reply against the model's outcome and view: the differences (reference -1 for the
    /// outcome; a reference one side lacks as field "present").
    func differences(outcome: Outcome?, view: [ReferenceState]) -> [FieldDifference] {
        var diffs: [FieldDifference] = []
        if lastOutcome != outcome { diffs.append(FieldDifference(reference: -1, field: "outcome")) }
        for ref in view {
            guard let fields = lastFields[ref.reference] else {
                diffs.append(FieldDifference(reference: ref.reference, field: "present"))
                continue
            }
            for f in fields where StateExpectation.value(of: f.name, in: ref) != f.value {
                diffs.append(FieldDifference(reference: ref.reference, field: f.name))
            }
        }
        for r in lastFields.keys.sorted() where !view.contains(where: { $0.reference == r }) {
            diffs.append(FieldDifference(reference: r, field: "present"))
        }
        return diffs
    }

    /// The last reply as a report's view: each reference's fields as the program gave them.
    func view() -> Divergence.View {
        var v = Divergence.View(name: name, representation: representation, outcome: lastOutcome, references: [])
        v.given = lastFields.mapValues { fields in
            Dictionary(uniqueKeysWithValues: fields.map { ($0.name, StateExpectation.display($0.value, of: $0.name)) })
        }
        v.reply = lastReply
        return v
    }
}
