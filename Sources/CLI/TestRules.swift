import ArgumentParser
import Foundation
import Rules

/// `sextant test rules FILE...`.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run unit tests.",
        subcommands: [TestRules.self]
    )
}

/// As `promtool test rules`: each test file's rule files loaded, its input series fed in,
/// its alert and expression tests checked; promtool's output on stdout and stderr, and the
/// exit status 1 when any file fails.
struct TestRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Unit tests for rules (promtool's test file format).",
        discussion: """
        Each file holds rule_files (relative to the file, globs allowed), evaluation_interval,
        group_eval_order and tests: input_series in the series notation ('1+1x10 _ stale'),
        alert_rule_test and promql_expr_test, as promtool reads them.

        Examples:
          sextant test rules tests/*.yml
        """
    )

    @Argument(help: "The test files.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("Missing expected argument '<files> ...'") }
    }

    func run() throws {
        // As promtool (kingpin's ExistingFiles): every file must exist before any runs.
        for file in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
                Self.write(.stderr, "error: path '\(file)' does not exist\n")
                throw ExitCode(1)
            }
            if isDirectory.boolValue {
                Self.write(.stderr, "error: '\(file)' is a directory\n")
                throw ExitCode(1)
            }
        }
        var passed = true
        for file in files {
            let output = RuleTestRunner.report([file])
            for chunk in output.chunks { Self.write(chunk.stream, chunk.text) }
            if !output.passed { passed = false }
        }
        if !passed { throw ExitCode(1) }
    }

    /// Unbuffered, so that stdout and stderr interleave as promtool's do.
    static func write(_ stream: RuleTestOutput.Stream, _ text: String) {
        let handle = stream == .stdout ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data(text.utf8))
    }
}
