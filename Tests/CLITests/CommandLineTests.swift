import Foundation
import Testing
import TestSupport

/// Runs the built `sextant` binary to its end, off the cooperative pool.
func runSextant(_ arguments: [String], currentDirectory: String? = nil) async throws -> ProcessOutput {
    try await runProcess(sextantBinary, arguments, currentDirectory: currentDirectory)
}

@Suite struct CommandLineTests {
    @Test func versionPrintsAndExitsZero() async throws {
        let r = try await runSextant(["--version"])
        #expect(r.status == 0)
        // The test build is a debug build, made by this compiler, for this machine.
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0 (debug build, Swift 6.3, x86_64-linux)")
    }

    @Test func unknownOptionFailsOnStderr() async throws {
        let r = try await runSextant(["--no-such-flag"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--no-such-flag"))
        #expect(r.stdout.isEmpty)
    }
}

@Suite struct CheckConfigTests {
    @Test func goodAndBadFiles() async throws {
        let dir = NSTemporaryDirectory() + "sextant-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['h:1']}]\n".write(toFile: dir + "/good.yml", atomically: true, encoding: .utf8)
        try "scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n".write(toFile: dir + "/bad.yml", atomically: true, encoding: .utf8)
        let good = try await runSextant(["check", "config", dir + "/good.yml"])
        #expect(good.status == 0 && good.stdout.contains("SUCCESS: 1 scrape configs, 1 static and file targets"))
        let bad = try await runSextant(["check", "config", dir + "/bad.yml"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("scrape_configs[0].scrape_intervall: field scrape_intervall not found"))
        let missing = try await runSextant(["check", "config", dir + "/none.yml"])
        #expect(missing.status != 0 && missing.stderr.contains("cannot read"))
    }
}
