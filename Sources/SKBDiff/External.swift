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
    /// Where the next line starts in `buffer` (lines already returned are dropped lazily).
    private var start = 0
    /// What one read takes, kept across reads.
    private var chunk = [UInt8](repeating: 0, count: 65536)
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
            if let nl = buffer[start...].firstIndex(of: 10) {
                let line = String(decoding: buffer[start..<(nl > start && buffer[nl - 1] == 13 ? nl - 1 : nl)], as: UTF8.self)
                start = nl + 1
                if start == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    start = 0
                }
                return line
            }
            if start > 0 {
                buffer.removeSubrange(..<start)
                start = 0
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
    /// This sequence: the target line was sent (and its `ready` read); no more calls are sent (it
    /// lacks an operation, said unsupported, or failed); replies compared; the failure's message.
    private var started = false
    private var readyRead = false
    private(set) var stopped = false
    private(set) var compared = 0
    public private(set) var failure: String?
    /// Calls sent whose replies are not read yet, oldest first (`.touched` sends ahead: a round trip
    /// to another process costs far more than a call).
    private var outstanding: [String] = []
    /// The last reply, parsed: its outcome and its references' fields, as text.
    private(set) var lastReply = ""
    private(set) var lastOutcome: Outcome?
    private(set) var lastFields: [Int: [(name: String, value: StateExpectation.FieldValue)]] = [:]

    /// The most calls sent ahead of their replies: their lines (and the target's) stay well inside a
    /// pipe's 64 KiB, so skbdiff never blocks writing them while the program blocks writing replies
    /// that skbdiff has not read yet, however long those are.
    public static let window = 32

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
        settle()
        if let process { ExternalProcess.checkIn(process, spec) }
    }

    public func reset() {
        settle()
        started = false
        readyRead = false
        stopped = false
        compared = 0
        failure = nil
    }

    /// Read and drop the replies still owed (a sequence stopped with calls sent ahead), so the next
    /// target line meets a program in step.
    private func settle() {
        guard let p = process, !outstanding.isEmpty || (started && !readyRead) else { return }
        do throws(ExternalError) {
            if started && !readyRead { _ = try p.receive(timeout: spec.timeout, waitingFor: "'ready' after the target") }
            for line in outstanding { _ = try p.receive(timeout: spec.timeout, waitingFor: "its reply to '\(line)'") }
        } catch {
            process = nil
        }
        readyRead = true
        outstanding.removeAll()
    }

    public func supports(_ op: Operation) -> Bool { spec.capabilities.operations.contains(op) }

    /// What became of a call sent.
    public enum Result {
        case replied
        /// Not compared from here on in this sequence (it lacks the operation, or failed).
        case stopped
    }

    /// Send the call and read its reply into `lastOutcome` and `lastFields`.
    public func run(_ call: Call) -> Result {
        guard send(call) else { return .stopped }
        return receive()
    }

    /// Replies owed.
    public var owed: Int { outstanding.count }

    /// Send the call (the sequence's target first) without reading its reply; false when it is not
    /// sent (the program lacks the operation, or stopped in this sequence).
    public func send(_ call: Call) -> Bool {
        guard !stopped else { return false }
        guard supports(call.op) else {
            stopped = true
            return false
        }
        let line = SeedFile.render(call)
        do throws(ExternalError) {
            if process == nil { process = try ExternalProcess.checkOut(spec) }
            if !started {
                try process!.send("target arch=\(target.arch.rawValue) config=\(target.config.rawValue) cache-line=\(target.cacheLine) representation=\(representation == .offset ? "off" : "ptr")")
                started = true
            }
            try process!.send(line)
            outstanding.append(line)
            return true
        } catch {
            fail("\(name) (\(spec.command)) on \(target) at '\(line)': \(error.description)")
            return false
        }
    }

    /// Read the reply to the oldest call sent into `lastOutcome` and `lastFields`. `.stopped` when
    /// it said unsupported or failed: nothing more of this sequence is compared for it.
    public func receive() -> Result {
        guard let p = process, !outstanding.isEmpty, failure == nil else { return .stopped }
        let line = outstanding.removeFirst()
        do throws(ExternalError) {
            if !readyRead {
                let ready = try p.receive(timeout: spec.timeout, waitingFor: "'ready' after the target")
                guard ready == "ready" else { throw ExternalError("sent '\(ExternalError.clip(ready))' after the target line; expected 'ready'") }
                readyRead = true
            }
            lastReply = try p.receive(timeout: spec.timeout, waitingFor: "its reply to '\(line)'")
            if lastReply == "unsupported" {
                stopped = true
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
        outstanding.removeAll()
        registry.report(message)
    }

    /// The declared fields' names as bytes, for the reply parser.
    private lazy var declaredBytes: [[UInt8]] = spec.capabilities.fields.map { Array($0.utf8) }

    /// A reply into `lastOutcome` and `lastFields`, read byte by byte (every call's reply goes
    /// through here: String splitting cost more than the program's own work).
    private func parse(_ reply: String) throws(ExternalError) {
        var text = reply
        var failure: ExternalError?
        text.withUTF8 { b in
            do throws(ExternalError) { try parse(b, reply) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func parse(_ b: UnsafeBufferPointer<UInt8>, _ reply: String) throws(ExternalError) {
        func fail(_ what: String) -> ExternalError { ExternalError("sent '\(ExternalError.clip(reply))': \(what)") }
        let space = UInt8(ascii: " "), bar = UInt8(ascii: "|"), equals = UInt8(ascii: "=")
        guard b.count >= 2, b[0] == UInt8(ascii: "="), b[1] == UInt8(ascii: ">") else {
            throw fail("expected '=> OUTCOME | skbN field=value ...' (Specs/protocol.md)")
        }
        var i = 2
        while i < b.count && b[i] != bar { i += 1 }
        do {
            lastOutcome = try SeedFile.parseOutcome(String(decoding: UnsafeBufferPointer(rebasing: b[2..<i]), as: UTF8.self).stripped,
                                                    line: 0, file: "")
        } catch {
            throw fail(error.message)
        }
        lastFields.removeAll(keepingCapacity: true)
        let declared = spec.capabilities.fields
        let all: UInt64 = declared.count == 64 ? ~0 : (1 << UInt64(declared.count)) - 1
        while i < b.count {
            // At a '|': a clause `skbN field=value ...` follows.
            i += 1
            while i < b.count && b[i] == space { i += 1 }
            if i == b.count { break }
            guard i + 3 < b.count, b[i] == UInt8(ascii: "s"), b[i + 1] == UInt8(ascii: "k"), b[i + 2] == UInt8(ascii: "b"),
                  b[i + 3] >= 48 && b[i + 3] <= 57 else { throw fail("expected 'skbN field=value ...' after '|'") }
            i += 3
            var r = 0
            while i < b.count && b[i] >= 48 && b[i] <= 57 && r < 1 << 40 { r = r * 10 + Int(b[i] - 48); i += 1 }
            guard lastFields[r] == nil else { throw fail("skb\(r) twice") }
            var fields: [(name: String, value: StateExpectation.FieldValue)] = []
            fields.reserveCapacity(declared.count)
            var seen: UInt64 = 0
            while true {
                while i < b.count && b[i] == space { i += 1 }
                if i == b.count || b[i] == bar { break }
                let nameStart = i
                while i < b.count && b[i] != equals && b[i] != space && b[i] != bar { i += 1 }
                let name = UnsafeBufferPointer(rebasing: b[nameStart..<i])
                guard i < b.count, b[i] == equals else {
                    throw fail("expected field=value, found '\(String(decoding: name, as: UTF8.self))'")
                }
                i += 1
                let valueStart = i
                while i < b.count && b[i] != space && b[i] != bar { i += 1 }
                guard let k = declaredBytes.firstIndex(where: { $0.elementsEqual(name) }) else {
                    throw ExternalError("sent field '\(String(decoding: name, as: UTF8.self))', which its hello did not name (fields=\(declared.joined(separator: ",")))")
                }
                guard let v = ExternalImplementation.value(UnsafeBufferPointer(rebasing: b[valueStart..<i])) else {
                    throw fail("expected an integer, unset, wild or none for \(declared[k]), found '\(String(decoding: UnsafeBufferPointer(rebasing: b[valueStart..<i]), as: UTF8.self))'")
                }
                guard seen & (1 << UInt64(k)) == 0 else { throw fail("skb\(r) gives \(declared[k]) twice") }
                seen |= 1 << UInt64(k)
                fields.append((declared[k], v))
            }
            guard seen == all else {
                let missing = declared.indices.filter { seen & (1 << UInt64($0)) == 0 }.map { declared[$0] }
                throw fail("skb\(r) lacks \(missing.joined(separator: ", ")), which its hello named")
            }
            lastFields[r] = fields
        }
    }

    /// A field's value as a seed file writes it (StateExpectation.parseValue), from bytes: a decimal
    /// or 0x-hex integer (a 64-bit hex digest may use every bit), or unset, wild or none.
    static func value(_ b: UnsafeBufferPointer<UInt8>) -> StateExpectation.FieldValue? {
        guard !b.isEmpty else { return nil }
        var i = 0
        let negative = b[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        if b.count > i + 2, b[i] == UInt8(ascii: "0"), b[i + 1] | 0x20 == UInt8(ascii: "x") {
            var v: UInt64 = 0
            for c in b[(i + 2)...] {
                let d: UInt8
                switch c {
                case 48...57: d = c - 48
                case 97...102: d = c - 87
                case 65...70: d = c - 55
                default: return nil
                }
                guard v >> 60 == 0 else { return nil }
                v = v << 4 | UInt64(d)
            }
            if negative { return v <= UInt64(Int64.max) ? .int(-Int64(v)) : nil }
            return .int(Int64(bitPattern: v))
        }
        if b.count > i, b[i] >= 48 && b[i] <= 57 {
            var v: UInt64 = 0
            for c in b[i...] {
                guard c >= 48 && c <= 57 else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(c - 48))
                guard !o1 && !o2 else { return nil }
                v = a
            }
            if negative { return v <= UInt64(Int64.max) ? .int(-Int64(v)) : nil }
            return .int(Int64(bitPattern: v))
        }
        let word = String(decoding: b, as: UTF8.self)
        return StateExpectation.valueWords.contains(word) ? .word(word) : nil
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
