import ArgumentParser
import Logging
import TSDB

/// `sextant inspect`: what a data directory holds, read-only.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the blocks, head, WAL and cardinality of a data directory.",
        discussion: """
        Opens the directory read-only (the WAL is replayed in memory, nothing is repaired); a \
        directory that a running server holds is refused. Bytes per block count its chunks, \
        index and meta.json.

        Examples:
          sextant inspect
          sextant inspect --storage.tsdb.path /var/lib/sextant --top 20
          sextant inspect --json | jq '.blocks[] | .bytesPerSample'
        """
    )

    @Option(name: .customLong("storage.tsdb.path"), help: "The data directory.")
    var dataDirectory = "./data"

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Option(help: "How many entries each cardinality list shows.")
    var top = 10

    func run() throws {
        var logger = Logger(label: "sextant.inspect")
        logger.logLevel = .error
        let db = try ReadOnlyDB.open(directory: dataDirectory, logger: logger)
        let report = StoreReport(db, top: max(top, 0))
        print(json ? report.json : report.text, terminator: "")
    }
}
