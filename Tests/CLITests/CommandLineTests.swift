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
        // The test build is a debug build, made by this compiler, for this machine.
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0 (debug build, Swift 6.3, x86_64-linux)")
    }

    @Test func unknownOptionFailsOnStderr() throws {
        let r = try runSextant(["--no-such-flag"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--no-such-flag"))
        #expect(r.stdout.isEmpty)
    }
}

@Suite struct CheckConfigTests {
    @Test func goodAndBadFiles() throws {
        let dir = NSTemporaryDirectory() + "sextant-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['h:1']}]\n".write(toFile: dir + "/good.yml", atomically: true, encoding: .utf8)
        try "scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n".write(toFile: dir + "/bad.yml", atomically: true, encoding: .utf8)
        let good = try runSextant(["check", "config", dir + "/good.yml"])
        #expect(good.status == 0 && good.stdout.contains("SUCCESS: 1 scrape configs, 1 static and file targets"))
        let bad = try runSextant(["check", "config", dir + "/bad.yml"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("scrape_configs[0].scrape_intervall: field scrape_intervall not found"))
        let missing = try runSextant(["check", "config", dir + "/none.yml"])
        #expect(missing.status != 0 && missing.stderr.contains("cannot read"))
    }
}
