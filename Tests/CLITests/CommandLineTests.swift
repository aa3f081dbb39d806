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
        #expect(good.status == 0 && good.stdout.contains("SUCCESS: 1 scrape configs, 1 static and file targets, 0 rule files"))
        let bad = try await runSextant(["check", "config", dir + "/bad.yml"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("scrape_configs[0].scrape_intervall: field scrape_intervall not found"))
        let missing = try await runSextant(["check", "config", dir + "/none.yml"])
        #expect(missing.status != 0 && missing.stderr.contains("cannot read"))
    }

    /// The rule files a configuration names (relative to it, with a pattern) are checked
    /// too, and `check rules` fails on a bad one with its line.
    @Test func ruleFiles() async throws {
        let dir = NSTemporaryDirectory() + "sextant-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/rules", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n".write(toFile: dir + "/rules/a.yml", atomically: true, encoding: .utf8)
        try "groups:\n  - name: b\n    rules:\n      - alert: B\n        expr: up ==\n".write(toFile: dir + "/rules/b.yml", atomically: true, encoding: .utf8)
        try "global: {evaluation_interval: 30s}\nrule_files: [rules/a.yml]\n".write(toFile: dir + "/one.yml", atomically: true, encoding: .utf8)
        try "rule_files: ['rules/*.yml']\n".write(toFile: dir + "/both.yml", atomically: true, encoding: .utf8)
        let one = try await runSextant(["check", "config", dir + "/one.yml"])
        #expect(one.status == 0 && one.stdout.contains("1 rule files found") && one.stdout.contains("SUCCESS: 1 rules found"))
        let both = try await runSextant(["check", "config", dir + "/both.yml"])
        #expect(both.status != 0 && both.stdout.contains("2 rule files found"))
        #expect(both.stdout.contains("\(dir)/rules/b.yml: 5:15: group \"b\", rule 1, \"B\": could not parse expression"))
        let rules = try await runSextant(["check", "rules", dir + "/rules/a.yml", dir + "/rules/b.yml"])
        #expect(rules.status != 0 && rules.stdout.contains("SUCCESS: 1 rules found") && rules.stdout.contains("FAILED"))
    }
}
