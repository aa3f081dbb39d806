import ArgumentParser
import Server

/// The `sextant` command.
@main
struct Sextant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant",
        abstract: "A Prometheus-compatible metrics store and query server.",
        version: BuildInfo.current.versionLine,
        subcommands: [Serve.self, Query.self, Import.self, Inspect.self, Bench.self, Check.self, TestCommand.self]
    )
}
