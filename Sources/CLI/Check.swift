import ArgumentParser
import Scrape

/// `sextant check config FILE`.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate files.",
        subcommands: [CheckConfig.self]
    )
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
        do {
            let config = try PrometheusConfig.load(file: file)
            let targets = config.jobs.reduce(0) { $0 + $1.targets().active.count }
            print("Checking \(file)\n  SUCCESS: \(config.jobs.count) scrape configs, \(targets) static and file targets found")
        } catch {
            throw ValidationError("Checking \(file)\n  FAILED: \(error)")
        }
    }
}
