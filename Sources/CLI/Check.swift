import ArgumentParser
import Rules
import Scrape

/// `sextant check config FILE`, `sextant check rules FILE...`.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate files.",
        subcommands: [CheckConfig.self, CheckRules.self]
    )
}

/// As `promtool check rules`: each file checked, its groups and rules counted, every problem
/// listed with its line; the exit status is 1 when any file fails.
struct CheckRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check rule files (Prometheus' format).",
        discussion: """
        Examples:
          sextant check rules rules/*.yml
        """
    )

    @Argument(help: "The rule files.")
    var files: [String]

    func run() throws {
        if !Self.check(files) { throw ExitCode(1) }
    }

    /// Checks each file, printing what promtool prints; false when any failed.
    static func check(_ files: [String]) -> Bool {
        var ok = true
        for file in files {
            print("Checking \(file)")
            do {
                let rules = try RuleFile.load(file)
                print("  SUCCESS: \(rules.groups.reduce(0) { $0 + $1.rules.count }) rules found\n")
            } catch {
                ok = false
                print("  FAILED:\n\(error.description)\n")
            }
        }
        return ok
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a Prometheus configuration file (the scrape part).",
        discussion: """
        Examples:
          sextant check config prometheus.yml
        """
    )

    @Argument(help: "The configuration file.")
    var file: String

    func run() throws {
        let config: PrometheusConfig
        do {
            config = try PrometheusConfig.load(file: file)
            let targets = config.jobs.reduce(0) { $0 + $1.targets().active.count }
            let rules = config.ruleFilePaths()
            print("Checking \(file)\n  SUCCESS: \(config.jobs.count) scrape configs, \(targets) static and file targets, \(rules.count) rule files found\n")
        } catch {
            throw ValidationError("Checking \(file)\n  FAILED: \(error)")
        }
        // As promtool: the rule files the configuration names are checked too.
        if !CheckRules.check(config.ruleFilePaths()) { throw ExitCode(1) }
    }
}
