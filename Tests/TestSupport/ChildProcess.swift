import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Child processes in async tests. Swift Testing runs every suite at once on the cooperative
// pool, which has one thread per core (two here): a test that blocks a pool thread in
// `waitUntilExit` or `readDataToEndOfFile` stalls every other test with it, and their wall-clock
// timeouts run out while they are not even scheduled. Everything here waits on threads of its
// own.

/// Runs blocking work on a thread of its own and waits for it without blocking a pool thread.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// What a finished child process left: its exit status and both outputs.
public struct ProcessOutput: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs `executable` with `arguments` (and `input` on its standard input) to its end, off the
/// pool. Both outputs are read at once, so a child that fills one pipe cannot deadlock.
public func runProcess(_ executable: String, _ arguments: [String], input: Data? = nil,
                       currentDirectory: String? = nil) async throws -> ProcessOutput {
    try await offThePool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(input)
            try stdin.fileHandleForWriting.close()
        }
        // stderr is read on a thread of its own while this one reads stdout.
        let errData = ReadOnce()
        let readerDone = DispatchSemaphore(value: 0)
        Thread {
            errData.data = err.fileHandleForReading.readDataToEndOfFile()
            readerDone.signal()
        }.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        readerDone.wait()
        process.waitUntilExit()
        return ProcessOutput(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData.data, as: UTF8.self))
    }
}

/// The directory the test bundle was built into, where `swift test` also builds the package's
/// executables (`sextant`, `tsdb-crash-child`).
public var buildDirectory: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}

/// The `sextant` binary to run: `SEXTANT_BINARY` when set (a release build, to measure), or the
/// one built beside the tests.
public var sextantBinary: String {
    ProcessInfo.processInfo.environment["SEXTANT_BINARY"] ?? buildDirectory.appendingPathComponent("sextant").path
}

/// A port nothing listens on right now.
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Polls `condition` every `interval` until it holds or `seconds` have passed, and asks once
/// more after the deadline: a task that was not scheduled for a while still gets its answer.
public func eventually(_ seconds: Double = 10, every interval: Duration = .milliseconds(20),
                       _ condition: () async -> Bool) async -> Bool {
    let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < end {
        if await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return await condition()
}

/// Data written by one thread before a semaphore it signals, read by another after waiting on it.
private final class ReadOnce: @unchecked Sendable {
    var data = Data()
}

/// Runs `body(0..<count)` on `count` threads of their own at once and waits for all of them.
/// Not `DispatchQueue.concurrentPerform`: on Linux it shares libdispatch's workers (one per
/// core) with Swift's task executor, so while other suites run it may run the iterations one
/// after another, and a test of concurrent readers and writers then tests nothing.
public func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    for k in 0..<count {
        Thread {
            body(k)
            done.signal()
        }.start()
    }
    for _ in 0..<count { done.wait() }
}

/// `onThreads`, awaited without holding a thread of the task pool for the whole run.
public func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
    _ = try? await offThePool { onThreads(count, body) }
}

/// A new directory under the temporary directory, named after the calling test.
public func temporaryDirectory(_ name: String = #function) -> String {
    let dir = NSTemporaryDirectory() + "sextant-\(name.filter(\.isLetter))-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Writes `key.pem` and `cert.pem` (self-signed, for 127.0.0.1, valid a day) into `dir` with
/// openssl.
public func makeSelfSignedCertificate(in dir: String) async throws {
    let openssl = try await runProcess("/usr/bin/openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem",
        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ])
    guard openssl.status == 0 else { throw CertificateError(message: openssl.stderr) }
}

/// openssl could not make a certificate.
public struct CertificateError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "openssl could not make a certificate: \(message)" }
}
