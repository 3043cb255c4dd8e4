import CSKBuff
import Foundation
import SKBuff
#if canImport(Glibc)
import Glibc
#endif

/// The C reference built for i386 (Specs/snapshot.md, "The i386 C reference"): the same CReference
/// sources, compiled with `-m32` into a freestanding static program (CReference/worker: its own few
/// system calls, no C library) by the Swift toolchain's clang and lld, so a machine with only the
/// Swift toolchain can build it. skbdiff builds it on first use and keeps it, named by a hash of its
/// sources and flags, under the package's `.build/i386-worker`.
public enum I386Worker {
    /// Why the worker cannot run, and what to do about it.
    public struct Unavailable: Error, CustomStringConvertible, Sendable {
        public var reason: String
        public var fix: String
        public var description: String { "\(reason); \(fix)" }
    }

    /// The flags every build uses (the sanitizer build of .ci/run adds its own).
    static let flags = ["-m32", "-std=c11", "-O2", "-DSKBREF_SINGLE_THREAD", "-ffreestanding", "-fno-builtin", "-nostdlib",
                        "-nostdlibinc", "-static", "-fuse-ld=lld", "-fno-stack-protector", "-fno-pic", "-w"]

    /// The worker's executable, built once per process (and once per source change on disk).
    public static var executable: Result<String, Unavailable> {
        cache.withLock { cached in
            if let cached { return cached }
            let r = locate(environment: ProcessInfo.processInfo.environment)
            cached = r
            return r
        }
    }

    private static let cache = Mutex<Result<String, Unavailable>?>(nil)

    /// SKBDIFF_I386_WORKER names a worker to use as it is; SKBDIFF_NO_I386_WORKER=1 runs without one;
    /// otherwise the worker is built from the CReference sources (SKBDIFF_CREFERENCE, else the
    /// package's own) with clang (SKBDIFF_CLANG, else the first clang on PATH or beside swift),
    /// adding SKBDIFF_I386_WORKER_CFLAGS to its flags.
    public static func locate(environment env: [String: String]) -> Result<String, Unavailable> {
        if env["SKBDIFF_NO_I386_WORKER"] == "1" {
            return .failure(Unavailable(reason: "SKBDIFF_NO_I386_WORKER=1 switches the i386 C reference off",
                                        fix: "unset it to compare all four implementations"))
        }
        if let given = env["SKBDIFF_I386_WORKER"] {
            return FileManager.default.isExecutableFile(atPath: given) ? .success(given)
                : .failure(Unavailable(reason: "SKBDIFF_I386_WORKER=\(given) is not an executable file",
                                       fix: "point it at a worker built by skbdiff, or unset it"))
        }
        let root = env["SKBDIFF_CREFERENCE"] ?? packageCReference
        guard FileManager.default.fileExists(atPath: root + "/worker/worker.c") else {
            return .failure(Unavailable(reason: "the CReference sources are not at \(root)",
                                        fix: "run skbdiff from its package checkout, or set SKBDIFF_CREFERENCE to its CReference directory"))
        }
        guard let clang = findClang(environment: env) else {
            return .failure(Unavailable(reason: "no clang found on PATH (the Swift toolchain has one beside swift)",
                                        fix: "put the toolchain's usr/bin on PATH, or set SKBDIFF_CLANG to a clang with lld"))
        }
        // Extra compiler flags, e.g. CI's UndefinedBehaviorSanitizer in trap mode (no runtime needed).
        let extra = (env["SKBDIFF_I386_WORKER_CFLAGS"] ?? "").split(separator: " ").map(String.init)
        do {
            return .success(try build(clang: clang, creference: root, cacheDirectory: cacheDirectory(root), extraFlags: extra))
        } catch let u as Unavailable {
            return .failure(u)
        } catch {
            return .failure(Unavailable(reason: "the i386 worker could not be built: \(error)", fix: "see Specs/snapshot.md, \"The i386 C reference\""))
        }
    }

    /// This package's CReference directory, from where this file was compiled.
    public static var packageCReference: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CReference").path
    }

    /// `.build/i386-worker` beside CReference when it can be written, else a directory of the user's under /tmp.
    static func cacheDirectory(_ creference: String) -> String {
        let dir = URL(fileURLWithPath: creference).deletingLastPathComponent().appendingPathComponent(".build/i386-worker").path
        if (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil,
           access(dir, W_OK) == 0 {
            return dir
        }
        let tmp = NSTemporaryDirectory() + "skbdiff-i386-worker-\(getuid())"
        try? FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        return tmp
    }

    /// SKBDIFF_CLANG, else `clang` in a PATH directory, else `clang` beside a `swift` found on PATH
    /// (its symbolic links followed: the toolchain's usr/bin).
    public static func findClang(environment env: [String: String]) -> String? {
        let fm = FileManager.default
        if let given = env["SKBDIFF_CLANG"] { return fm.isExecutableFile(atPath: given) ? given : nil }
        let path = (env["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path where fm.isExecutableFile(atPath: dir + "/clang") { return dir + "/clang" }
        for dir in path where fm.isExecutableFile(atPath: dir + "/swift") {
            let real = URL(fileURLWithPath: dir + "/swift").resolvingSymlinksInPath().deletingLastPathComponent().path
            if fm.isExecutableFile(atPath: real + "/clang") { return real + "/clang" }
        }
        return nil
    }

    /// The sources a worker is built from: CReference's include and src, and the worker's own.
    static func sources(_ creference: String) -> (compile: [String], all: [String]) {
        let fm = FileManager.default
        var all: [String] = []
        for sub in ["include", "src", "worker", "worker/include", "worker/include/sys"] {
            let dir = creference + "/" + sub
            for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            where name.hasSuffix(".c") || name.hasSuffix(".h") {
                all.append(dir + "/" + name)
            }
        }
        let compile = all.filter { $0.hasSuffix(".c") }
        return (compile, all)
    }

    /// Build (or find already built) the worker from `creference` into `cacheDirectory`.
    public static func build(clang: String, creference: String, cacheDirectory: String, extraFlags: [String] = []) throws -> String {
        let (compile, all) = sources(creference)
        // FNV-1a over every source's name and bytes, the flags and the compiler's path.
        var hash: UInt64 = 0xcbf29ce484222325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100000001b3 }
        }
        for file in all {
            mix(URL(fileURLWithPath: file).lastPathComponent.utf8)
            mix(Array((try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()))
        }
        mix((flags + extraFlags + [clang]).joined(separator: " ").utf8)
        let output = cacheDirectory + "/skbref-worker-i386-" + String(hash, radix: 16)
        if FileManager.default.isExecutableFile(atPath: output) { return output }
        let partial = output + ".\(getpid()).partial"
        let includes = ["-I", creference + "/worker/include", "-I", creference + "/worker", "-I", creference + "/include",
                        "-I", creference + "/src"]
        let (status, messages) = try runProcess(clang, flags + extraFlags + includes + compile + ["-o", partial])
        guard status == 0 else {
            unlink(partial)
            throw Unavailable(reason: "\(clang) could not build the i386 worker (exit \(status)): "
                                + messages.split(separator: "\n").prefix(6).joined(separator: " | "),
                              fix: "set SKBDIFF_CLANG to the Swift toolchain's clang, which targets i386 and has lld")
        }
        guard rename(partial, output) == 0 else {
            unlink(partial)
            throw Unavailable(reason: "cannot place the i386 worker at \(output)", fix: "make \(cacheDirectory) writable")
        }
        return output
    }

    /// Run a program to its end; its exit status and what it printed on stderr and stdout.
    public static func runProcess(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        // The pipe's write end is open here only until run() returns (Process closes its copy): no
        // worker may start meanwhile and inherit it, or the read below would never see the end.
        let pipe = try WorkerProcess.spawning.withLock {
            let pipe = Pipe()
            p.standardError = pipe
            p.standardOutput = pipe
            try p.run()
            return pipe
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Say once per process why `--arch i386` compares the Swift model only.
    public static func warnOnce(_ u: Unavailable) {
        warned.withLock { done in
            guard !done else { return }
            done = true
            FileHandle.standardError.write(Data("skbdiff: i386 runs without the C reference (Swift OFF against Swift PTR only): \(u)\n".utf8))
        }
    }

    private static let warned = Mutex(false)
}

/// A value behind a lock (Synchronization's Mutex needs macOS 15 / a newer Linux toolchain setting).
final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// One running worker process and the pipes to it (CReference/worker/worker_io.h).
final class WorkerProcess {
    enum Tag: UInt32 { case hello = 1, open, reset, mutant, run, state, snapshot, live, batch }

    let pid: pid_t
    private let toWorker: Int32
    private let fromWorker: Int32
    /// The request being built, and the last reply (its 8-byte header, then the payload), in raw
    /// buffers that grow and are never shrunk.
    private var request = RawBuffer()
    private(set) var reply = RawBuffer()
    /// The variant and cache line last opened, to skip opening the same again.
    var opened: (offset: Bool, profile: Int32, cacheLine: UInt32)?

    /// Held while any child process of skbdiff starts (workers here, the compiler in
    /// I386Worker.runProcess): a child inherits every descriptor open in the process that is not
    /// close-on-exec, and a worker that held the compiler's output pipe would keep it from ever ending.
    static let spawning = NSLock()

    init(executable: String) throws {
        let child = try WorkerProcess.spawn(executable, [executable]).get()
        pid = child.pid
        toWorker = child.input
        fromWorker = child.output
    }

    /// Start `path` with `arguments` (argv, its name first), its stdin and stdout on pipes: the child's
    /// pid, the pipe end to write its input to and the one to read its output from; or why not.
    /// posix_spawn_file_actions_addclosefrom_np, where the C library has it (glibc 2.34 and later),
    /// looked up at run time so that skbdiff still builds and runs with an older one.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    static func spawn(_ path: String, _ arguments: [String]) -> Result<(pid: pid_t, input: Int32, output: Int32), WorkerFailure> {
        signal(SIGPIPE, SIG_IGN)
        var down: [Int32] = [0, 0], up: [Int32] = [0, 0]
        // One start at a time, and our pipe ends close-on-exec before the next: a worker started
        // meanwhile by another thread must not hold this one's pipes (it would never see its input end).
        WorkerProcess.spawning.lock()
        defer { WorkerProcess.spawning.unlock() }
        guard pipe(&down) == 0, pipe(&up) == 0 else { return .failure(WorkerFailure("cannot create pipes: errno \(errno)")) }
        for fd in [down[1], up[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, down[0], 0)
        posix_spawn_file_actions_adddup2(&actions, up[1], 1)
        if let closeFrom = WorkerProcess.addCloseFrom {
            // Every other descriptor too: a pipe another thread opened without close-on-exec
            // (Foundation's Process does) would otherwise stay open in the child for its whole life,
            // and whoever reads that pipe would wait for its end forever.
            _ = closeFrom(&actions, 3)
        } else {
            for fd in [down[0], down[1], up[0], up[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        // A process group of its own: a Ctrl-C at the terminal signals the whole foreground group,
        // and must stop the campaign (which ends in order, exit 130), not kill its children under
        // it. A child still ends with skbdiff: its input closes.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        close(down[0])
        close(up[1])
        guard rc == 0 else {
            close(down[1])
            close(up[0])
            return .failure(WorkerFailure("cannot start \(path): errno \(rc)"))
        }
        return .success((pid, down[1], up[0]))
    }

    deinit {
        request.free()
        reply.free()
        close(toWorker)
        close(fromWorker)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    // MARK: Requests

    func begin(_ tag: Tag) {
        request.count = 0
        append(tag.rawValue)
        append(UInt32(0))
    }

    @inline(__always)
    func append<T: FixedWidthInteger>(_ v: T) {
        request.store(v.littleEndian)
    }

    /// Append to the request in place.
    @inline(__always)
    func withRequest(_ body: (inout RawBuffer) -> Void) { body(&request) }

    /// Send the request; read the reply when the request has one.
    func send(expectReply: Bool) throws(WorkerFailure) {
        try sendOnly()
        if expectReply { try receive() }
    }

    /// Send the request built, without waiting for its reply (`receive` reads it).
    func sendOnly() throws(WorkerFailure) {
        (request.base + 4).storeBytes(of: UInt32(request.count - 8).littleEndian, as: UInt32.self)
        pendingTag = request.base.loadUnaligned(as: UInt32.self).littleEndian
        if let e = writeAll(UnsafeRawBufferPointer(start: request.base, count: request.count)) { throw e }
    }

    /// Read the reply to the request last sent into `reply` (its header, then the payload the
    /// accessors read from offset 0): one read takes as much as the pipe holds, usually all of it.
    func receive() throws(WorkerFailure) {
        reply.reserve(65536)
        var have = 0
        func more(upTo total: Int) -> WorkerFailure? {
            while have < total {
                let n = read(fromWorker, reply.base + have, reply.capacity - have)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return WorkerFailure(ended()) }
                have += n
            }
            return nil
        }
        if let e = more(upTo: 8) { throw e }
        let tag = reply.base.loadUnaligned(as: UInt32.self).littleEndian
        let total = 8 + Int(reply.base.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        guard tag == pendingTag else { throw WorkerFailure("replied to request \(tag), not \(pendingTag)") }
        reply.count = have
        reply.reserve(total)
        if let e = more(upTo: total) { throw e }
        reply.count = total
    }

    private var pendingTag: UInt32 = 0

    private func writeAll(_ b: UnsafeRawBufferPointer) -> WorkerFailure? {
        var done = 0
        while done < b.count {
            let n = write(toWorker, b.baseAddress! + done, b.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return WorkerFailure(ended()) }
            done += n
        }
        return nil
    }

    /// How the worker ended, once a pipe to it broke.
    private func ended() -> String {
        var status: Int32 = 0
        let r = waitpid(pid, &status, 0)
        guard r == pid else { return "the worker's pipe broke" }
        if status & 0x7f != 0 { return "the worker died of signal \(status & 0x7f)" }
        return "the worker exited with status \((status >> 8) & 0xff)"
    }

    // MARK: Replies

    /// The reply's payload starts after its 8-byte header.
    @inline(__always)
    func u32(_ at: Int) -> UInt32 {
        reply.base.loadUnaligned(fromByteOffset: 8 + at, as: UInt32.self).littleEndian
    }

    @inline(__always)
    func i64(_ at: Int) -> Int64 {
        reply.base.loadUnaligned(fromByteOffset: 8 + at, as: Int64.self).littleEndian
    }

    /// A struct skbref_worker_state at `at` (16 + SKBState.plainSize bytes): nil when the reference is empty or ended.
    @inline(__always)
    func referenceState(_ at: Int) -> ReferenceState? {
        guard u32(at + 4) != 0 else { return nil }
        var s = ReferenceState.zero
        withUnsafeMutableBytes(of: &s.state) { $0.copyMemory(from: UnsafeRawBufferPointer(start: reply.base + 8 + at + 16, count: SKBState.plainSize)) }
        s.reference = Int(Int32(bitPattern: u32(at)))
        s.frozen = u32(at + 8) != 0
        return s
    }

    static let stateSize = 16 + SKBState.plainSize
    static let outcomeSize = 24

    // MARK: The process pool

    /// Idle workers of each executable, kept across Differentials: a campaign makes one per block.
    private static let idle = Mutex<[String: [WorkerProcess]]>([:])

    static func checkOut(_ executable: String) throws(WorkerFailure) -> WorkerProcess {
        if let p = idle.withLock({ $0[executable]?.popLast() }) { return p }
        return try fresh(executable)
    }

    /// A new worker, never pooled before.
    static func fresh(_ executable: String) throws(WorkerFailure) -> WorkerProcess {
        _ = reapAtExit
        do { return try WorkerProcess(executable: executable) } catch let e as WorkerFailure { throw e } catch { throw WorkerFailure("\(error)") }
    }

    /// At exit the idle workers are ended and waited for (their input closes), so none outlives
    /// skbdiff and their time is the process's (a worker in use sees its input close as skbdiff ends).
    private static let reapAtExit: Void = { atexit { WorkerProcess.idle.withLock { $0.removeAll() } } }()

    static func checkIn(_ p: WorkerProcess, _ executable: String) {
        idle.withLock { $0[executable, default: []].append(p) }
    }
}

/// A growable byte buffer for the wire (no Array bookkeeping per integer).
struct RawBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    var count = 0

    init() {
        capacity = 4096
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    /// At least `n` bytes of room, keeping the first `count`.
    mutating func reserve(_ n: Int) {
        guard n > capacity else { return }
        var c = capacity
        while c < n { c *= 2 }
        let b = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 16)
        b.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = b
        capacity = c
    }

    mutating func append(_ b: UnsafeRawBufferPointer) {
        if count + b.count > capacity { reserve(count + b.count) }
        (base + count).copyMemory(from: b.baseAddress!, byteCount: b.count)
        count += b.count
    }

    mutating func zeros(_ n: Int) {
        if count + n > capacity { reserve(count + n) }
        (base + count).initializeMemory(as: UInt8.self, repeating: 0, count: n)
        count += n
    }

    @inline(__always)
    mutating func store<T: FixedWidthInteger>(_ v: T) {
        let n = MemoryLayout<T>.size
        if count + n > capacity { reserve(count + n) }
        (base + count).storeBytes(of: v, as: T.self)
        count += n
    }

    func free() { base.deallocate() }
}

/// Sequences encoded as one batch (skbref_driver.h, "Batches") as they run: {u32 sequences}, then
/// per sequence {u32 calls, u32 leak_check} and its calls, each with its before and touched
/// references. The sequence running is last, until it is kept (`commit`) or dropped.
public struct EncodedBatch {
    var storage = RawBuffer()
    /// Sequences kept.
    public private(set) var count = 0
    /// Where the running sequence starts, and its calls so far.
    private var start = 4
    private var calls: UInt32 = 0

    init() { storage.store(UInt32(0)) }

    /// The running sequence has calls.
    var running: Bool { calls > 0 }

    /// The kept sequences' bytes, the count in front (valid until the next change).
    var bytes: UnsafeRawBufferPointer {
        storage.base.storeBytes(of: UInt32(count).littleEndian, as: UInt32.self)
        return UnsafeRawBufferPointer(start: storage.base, count: start)
    }

    mutating func append<S: Sequence>(_ call: Call, before: Int, touched: S) where S.Element == Int {
        if calls == 0 {
            storage.count = start
            storage.store(UInt32(0))
            storage.store(UInt32(0))
        }
        WorkerImplementation.Batch.encode(call, pattern: calls, into: &storage)
        storage.store(Int32(before).littleEndian)
        let at = storage.count
        storage.store(UInt32(0))
        var n: UInt32 = 0
        for r in touched {
            storage.store(Int32(r).littleEndian)
            n += 1
        }
        (storage.base + at).storeBytes(of: n.littleEndian, as: UInt32.self)
        calls += 1
    }

    /// Keep the running sequence (a sequence without calls is kept too: the runner runs it empty).
    mutating func commit(leakCheck: Bool) {
        if calls == 0 {
            storage.count = start
            storage.store(UInt32(0))
            storage.store(UInt32(0))
        }
        (storage.base + start).storeBytes(of: calls.littleEndian, as: UInt32.self)
        (storage.base + start + 4).storeBytes(of: UInt32(leakCheck ? 1 : 0).littleEndian, as: UInt32.self)
        start = storage.count
        calls = 0
        count += 1
    }

    /// Drop the running sequence.
    mutating func dropUncommitted() {
        storage.count = start
        calls = 0
    }

    mutating func removeAll() {
        storage.count = 4
        start = 4
        calls = 0
        count = 0
    }

    func free() { storage.free() }

    /// The kept sequences as Batch values (bench, tests).
    func decoded() -> [WorkerImplementation.Batch] {
        var out: [WorkerImplementation.Batch] = []
        var at = 4
        func u32() -> UInt32 { defer { at += 4 }; return UInt32(littleEndian: storage.base.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func i64() -> Int64 { defer { at += 8 }; return Int64(littleEndian: storage.base.loadUnaligned(fromByteOffset: at, as: Int64.self)) }
        for _ in 0..<count {
            var b = WorkerImplementation.Batch()
            let n = u32()
            _ = u32()
            for _ in 0..<n {
                let code = u32()
                _ = u32()
                let target = Int32(bitPattern: u32())
                _ = u32()
                let arg0 = i64(), arg1 = i64()
                let op = Operation.allCases[CImplementation.opCodes.firstIndex(of: code)!]
                let before = Int(Int32(bitPattern: u32()))
                let touched = (0..<u32()).map { _ in Int(Int32(bitPattern: u32())) }
                b.append(Call(op, target: Int(max(target, 0)), arg0: arg0, arg1: arg1), before: before, touched: touched)
            }
            out.append(b)
        }
        return out
    }
}

/// The worker failed: it died, or answered what it was not asked.
public struct WorkerFailure: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// A C implementation in one representation and the target's CONFIG profile, running in a worker
/// process: the C reference in the i386 worker with 32-bit pointers, or a kernel tree's own code in a
/// kernel worker (`--kernel-tree`, Specs/kernel.md) on either arch. In `.full` comparison each call,
/// state and snapshot is one request; in `.touched` the Differential hands it whole sequences
/// (`startBatches`, `receiveBatches`).
public final class WorkerImplementation: BatchRunning {
    /// Whose code the worker runs: the name's first half ("c-off", "kernel-ptr").
    public enum Family: String, Sendable {
        case c
        case kernel

        var title: String { self == .c ? "the C reference" : "the kernel tree's code" }
    }

    public let family: Family
    public let representation: RepresentationKind
    public let sizing: Sizing
    let executable: String
    private let process: WorkerProcess
    /// A mirror of the worker's pool (handles are the sk_buffs' 32-bit addresses).
    var pool = Pool<UInt32>()
    private var needsReset = false

    /// What the compiled i386 variants report (HELLO): per (profile, representation) their sizes.
    public struct VariantInfo: Sendable {
        public var usesOffset: Bool
        public var profile: Int32
        public var sizeofSkBuff: UInt32
        public var sizeofSharedInfo: UInt32
        public var sizeofDataT: UInt32
        public var alignofSkBuff: UInt32
        public var alignofSharedInfo: UInt32
        public var skBuffFields: [CField32]
        public var sharedInfoFields: [CField32]
    }

    /// One field as the i386 compiler laid it out.
    public struct CField32: Sendable {
        public var name: String
        public var offset: UInt32
        public var size: UInt32
        public var bitOffset: UInt32
        public var bitWidth: UInt32
    }

    public init(representation: RepresentationKind, target: Target, executable: String, family: Family = .c) throws(WorkerFailure) {
        self.family = family
        self.representation = representation
        self.executable = executable
        // An idle worker that ended meanwhile (killed from outside) is let go for a fresh one.
        var p = try WorkerProcess.checkOut(executable)
        var variants: [VariantInfo]
        do { variants = try WorkerImplementation.hello(p, pointerSize: target.arch.pointerSize) } catch {
            p = try WorkerProcess.fresh(executable)
            variants = try WorkerImplementation.hello(p, pointerSize: target.arch.pointerSize)
        }
        process = p
        let profile = Int32(ConfigProfile.allCases.firstIndex(of: target.config)!)
        let info = variants.first { $0.usesOffset == (representation == .offset) && $0.profile == profile }!
        sizing = Sizing(skBuff: info.sizeofSkBuff, sharedInfo: info.sizeofSharedInfo, dataT: info.sizeofDataT)
        let want = (representation == .offset, profile, target.cacheLine)
        if process.opened.map({ $0 != want }) ?? true {
            process.begin(.open)
            process.append(Int32(representation == .offset ? 1 : 0))
            process.append(profile)
            process.append(target.cacheLine)
            try process.send(expectReply: true)
            guard process.u32(0) == 1 else {
                throw WorkerFailure("the worker could not open its world: no data arena could be mapped, or a bad cache line \(target.cacheLine)")
            }
            process.opened = want
        }
        needsReset = true
    }

    deinit {
        process.begin(.mutant)
        process.append(Int32(0))
        if (try? process.send(expectReply: false)) != nil { WorkerProcess.checkIn(process, executable) }
    }

    /// The variants' sizes and fields.
    static func hello(_ p: WorkerProcess, pointerSize: Int) throws(WorkerFailure) -> [VariantInfo] {
        p.begin(.hello)
        try p.send(expectReply: true)
        guard p.u32(0) == 3, p.u32(4) == UInt32(pointerSize) else {
            throw WorkerFailure("not a worker of this skbdiff with \(pointerSize)-byte pointers (version \(p.u32(0)), \(p.u32(4))-byte pointers)")
        }
        var at = 12
        var out: [VariantInfo] = []
        func fields() -> [CField32] {
            let n = Int(p.u32(at))
            at += 4
            var f: [CField32] = []
            for _ in 0..<n {
                let len = Int(p.u32(at + 16))
                let name = String(decoding: UnsafeRawBufferPointer(start: p.reply.base + 8 + at + 20, count: len), as: UTF8.self)
                f.append(CField32(name: name, offset: p.u32(at), size: p.u32(at + 4), bitOffset: p.u32(at + 8), bitWidth: p.u32(at + 12)))
                at += 20 + len
            }
            return f
        }
        for _ in 0..<Int(p.u32(8)) {
            let base = at
            at += 28
            let skb = fields()
            let sh = fields()
            out.append(VariantInfo(usesOffset: p.u32(base) != 0, profile: Int32(bitPattern: p.u32(base + 4)),
                                   sizeofSkBuff: p.u32(base + 8), sizeofSharedInfo: p.u32(base + 12),
                                   sizeofDataT: p.u32(base + 16), alignofSkBuff: p.u32(base + 20), alignofSharedInfo: p.u32(base + 24),
                                   skBuffFields: skb, sharedInfoFields: sh))
        }
        return out
    }

    /// A worker's compiled variants, for the layout checker.
    public static func variants(executable: String, pointerSize: Int = 4) throws(WorkerFailure) -> [VariantInfo] {
        let p = try WorkerProcess.checkOut(executable)
        defer { WorkerProcess.checkIn(p, executable) }
        return try hello(p, pointerSize: pointerSize)
    }

    public var name: String { "\(family.rawValue)-\(representation.short.lowercased())" }

    /// 2.6.24 has no alloc_skb_from_cache: a kernel worker lacks it (Specs/kernel.md).
    public func supports(_ op: Operation) -> Bool { family == .c || !WorkerImplementation.lackedByKernel.contains(op) }

    /// What a kernel worker lacks (the harness's skbref_supports says the same).
    public static let lackedByKernel: Set<Operation> = [.alloc_skb_from_cache]
    public var referenceCount: Int { pool.handles.count }
    public func isRunnable(_ reference: Int) -> Bool { pool.runnable(reference) != nil }
    public var usableCount: Int { pool.usableCount }
    public func usableReference(_ k: Int) -> Int { pool.usableReference(k) }

    /// A failed worker ends the process with a clear message: the C reference (or the stand-in
    /// around a kernel tree's code) misbehaved; a crash is reproduced by replaying the sequence that was running.
    private func failed(_ e: WorkerFailure) -> Never {
        FileHandle.standardError.write(Data("skbdiff: \(family.title) (\(name), in its worker) failed: \(e)\n".utf8))
        exit(70)
    }

    private func resetIfNeeded() {
        guard needsReset else { return }
        needsReset = false
        process.begin(.reset)
        do { try process.send(expectReply: false) } catch { failed(error) }
    }

    public func switchOn(_ mutation: Mutation?) {
        process.begin(.mutant)
        process.append(mutation.map { CImplementation.mutantCodes[$0]! } ?? 0)
        do { try process.send(expectReply: false) } catch { failed(error) }
    }

    public func reset() {
        pool.reset()
        needsReset = true
    }

    public var liveAllocations: Int {
        resetIfNeeded()
        process.begin(.live)
        do { try process.send(expectReply: true) } catch { failed(error) }
        return Int(process.u32(0))
    }

    func appendCall(_ call: Call, pattern: UInt32) {
        process.withRequest { Batch.encode(call, pattern: pattern, into: &$0) }
    }

    static func effectCode(_ e: PoolEffect) -> UInt32 {
        switch e {
        case .none: return 0
        case .produces: return 1
        case .consumes: return 2
        case .consumesOnFailure: return 3
        case .replaces: return 4
        }
    }

    /// The outcome record at `at`, settled into the mirror pool.
    private func outcome(at: Int, _ call: Call) -> Outcome? {
        guard process.u32(at) != 0 else {
            _ = pool.target(of: call) // numbers the reference a producer would have made
            return nil
        }
        let o = CImplementation.outcome(kind: Int32(bitPattern: process.u32(at + 4)), value: process.i64(at + 8), call)
        let target = call.op.takesTarget ? pool.runnable(call.target) : nil
        let skb = process.u32(at + 16)
        pool.settle(call, target: target, outcome: o, produced: skb == 0 ? nil : skb, consumed: process.u32(at + 20) != 0)
        return o
    }

    public func run(_ call: Call, pattern: UInt32) -> Outcome? {
        resetIfNeeded()
        process.begin(.run)
        appendCall(call, pattern: pattern)
        do { try process.send(expectReply: true) } catch { failed(error) }
        return outcome(at: 0, call)
    }

    public func state(of reference: Int, into out: UnsafeMutablePointer<ReferenceState>) -> Bool {
        resetIfNeeded()
        process.begin(.state)
        process.append(Int32(reference))
        do { try process.send(expectReply: true) } catch { failed(error) }
        guard let s = process.referenceState(0) else { return false }
        out.pointee = s
        return true
    }

    public func snapshot(into out: inout [ReferenceState]) {
        resetIfNeeded()
        process.begin(.snapshot)
        do { try process.send(expectReply: true) } catch { failed(error) }
        readSnapshot(at: 0, into: &out)
    }

    /// {u32 n} and n states at `at`; returns the offset past them.
    @discardableResult
    private func readSnapshot(at: Int, into out: inout [ReferenceState]) -> Int {
        out.removeAll(keepingCapacity: true)
        let n = Int(process.u32(at))
        var p = at + 4
        for _ in 0..<n {
            if let s = process.referenceState(p) { out.append(s) }
            p += WorkerProcess.stateSize
        }
        return p
    }

    // MARK: Whole sequences

    /// A sequence's calls with, per call, the reference whose state to take before it (-1: none) and
    /// those to take after it.
    public struct Batch {
        public var calls: [Call] = []
        public var before: [Int32] = []
        public var touchedStart: [Int32] = []
        public var touched: [Int32] = []

        public init() {}

        public mutating func removeAll() {
            calls.removeAll(keepingCapacity: true)
            before.removeAll(keepingCapacity: true)
            touchedStart.removeAll(keepingCapacity: true)
            touched.removeAll(keepingCapacity: true)
        }

        public mutating func append(_ call: Call, before b: Int, touched t: [Int]) {
            calls.append(call)
            before.append(Int32(b))
            touchedStart.append(Int32(touched.count))
            for r in t { touched.append(Int32(r)) }
        }

        /// These sequences encoded as one batch.
        static func encoded(_ batches: ArraySlice<Batch>, leakCheck: Bool) -> EncodedBatch {
            var e = EncodedBatch()
            for b in batches {
                for (k, call) in b.calls.enumerated() {
                    let hi = k + 1 < b.calls.count ? Int(b.touchedStart[k + 1]) : b.touched.count
                    e.append(call, before: Int(b.before[k]), touched: b.touched[Int(b.touchedStart[k])..<hi].lazy.map { Int($0) })
                }
                e.commit(leakCheck: leakCheck)
            }
            return e
        }

        /// A struct skbref_worker_call.
        static func encode(_ call: Call, pattern: UInt32, into out: inout RawBuffer) {
            out.store(CImplementation.opCodes[call.op.rawValue].littleEndian)
            out.store(pattern.littleEndian)
            out.store(Int32(call.op.takesTarget ? call.target : -1).littleEndian)
            out.store(WorkerImplementation.effectCode(call.op.effect).littleEndian)
            out.store(call.arg0.littleEndian)
            out.store(call.arg1.littleEndian)
        }
    }

    /// Send whole sequences (each starts from an empty pool); read the reply with `receiveBatches`.
    public func startBatches(_ batches: ArraySlice<Batch>, leakCheck: Bool) {
        let e = Batch.encoded(batches, leakCheck: leakCheck)
        send(e.bytes)
        e.free()
    }

    private func send(_ batch: UnsafeRawBufferPointer) {
        process.begin(.batch)
        process.withRequest { $0.append(batch) }
        do { try process.sendOnly() } catch { failed(error) }
    }

    /// The digest the worker replies for each sequence when it agrees (BatchRunning).
    private var expectedDigests: [UInt64] = []

    /// The records travel as one digest per sequence: 8 bytes cross the pipe instead of kilobytes.
    public func startBatches(_ batch: UnsafeRawBufferPointer, count: Int, expected: ExpectedRecords) {
        expectedDigests = (0..<expected.count).map(expected.digest)
        send(batch)
    }

    public func finishBatches() -> [Bool] {
        let reply = receiveBatches()
        // A reply of the wrong length fails them all.
        guard reply.count == 8 * expectedDigests.count else { return expectedDigests.map { _ in false } }
        return expectedDigests.indices.map {
            UInt64(littleEndian: reply.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) == expectedDigests[$0]
        }
    }

    /// The reply to `startBatches`, as it came (the records of worker_io.h, every sequence's in order).
    public func receiveBatches() -> UnsafeRawBufferPointer {
        do { try process.receive() } catch { failed(error) }
        // The worker freed every reference for the leak check: the mirror no longer matches it.
        pool.reset()
        needsReset = true
        return UnsafeRawBufferPointer(start: process.reply.base + 8, count: process.reply.count - 8)
    }
}
