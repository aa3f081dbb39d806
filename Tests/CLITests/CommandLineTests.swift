import Foundation
import Testing

/// Runs the built `sextant` binary (it sits beside the test bundle in the build directory).
func runSextant(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let process = Process()
    process.executableURL = buildDirectory.appendingPathComponent("sextant")
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite struct CommandLineTests {
    @Test func versionPrintsAndExitsZero() throws {
        let r = try runSextant(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test func unknownOptionFailsOnStderr() throws {
        let r = try runSextant(["--no-such-flag"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--no-such-flag"))
        #expect(r.stdout.isEmpty)
    }
}
