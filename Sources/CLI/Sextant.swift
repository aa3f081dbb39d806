import ArgumentParser

/// The `sextant` command.
@main
struct Sextant: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant",
        abstract: "A Prometheus-compatible metrics store and query server.",
        version: BuildInfo.version
    )
}

/// Version and build information printed by `--version`.
enum BuildInfo {
    static let version = "0.1.0"
}
