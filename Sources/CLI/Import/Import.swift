import ArgumentParser
import Foundation
import Server
import TSDB

/// `sextant import FILE...`: backfills exposition files straight into blocks of a data
/// directory that no server holds.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Write samples from exposition files directly as blocks (backfill).",
        discussion: """
        Each file is OpenMetrics (timestamps in seconds, ending with "# EOF") or the Prometheus \
        text format (timestamps in milliseconds); every sample needs a timestamp. Samples may \
        come in any order; a series' repeated timestamp keeps the sample read last. Memory \
        holds the series' labels and one block's samples; the rest waits in temporary files \
        in the data directory. Nothing is written when a line is bad: every bad line is \
        reported and the exit code is 1. Start the server on the directory afterwards; it \
        merges the new blocks into larger ones.

        Examples:
          sextant import metrics.om --storage.tsdb.path ./data
          sextant import day1.prom day2.prom --format text --storage.tsdb.path /var/lib/sextant
          promtool tsdb dump-openmetrics ... > dump.om && sextant import dump.om
        """
    )

    @Argument(help: "The files to import.")
    var files: [String]

    @Option(name: .customLong("storage.tsdb.path"), help: "The data directory to write blocks into (created when missing).")
    var dataDirectory = "./data"

    @Option(help: "File format: auto, text or openmetrics.")
    var format: ImportFormat = .auto

    @Option(name: .customLong("block-duration"), help: "Time span of each written block (a duration like 2h).")
    var blockDuration = "2h"

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file to import") }
        guard let d = parseAPIDuration(blockDuration), d > 0 else {
            throw ValidationError("invalid --block-duration \"\(blockDuration)\": not a duration like 2h")
        }
    }

    func run() throws {
        let duration = parseAPIDuration(blockDuration) ?? 2 * 3_600_000
        let importer = try BlockImporter(directory: dataDirectory, blockDuration: duration)
        let progress = Progress()
        var samples = 0, errorCount = 0
        var errors: [ImportLineError] = []
        for file in files {
            var reader = try ImportFileReader(path: file, format: format)
            let size = max(1, (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 1)
            let before = samples
            try reader.read(into: importer) { done, read in
                progress.update(Double(done) / Double(size),
                                "reading \(file): \(formatBytes(done)) of \(formatBytes(size)), \(before + read) samples")
            }
            samples += reader.samples
            errorCount += reader.errorCount
            errors += reader.errors
        }
        progress.finish()
        guard errorCount == 0 else {
            for e in errors.prefix(20) { printError("error: \(e)") }
            if errorCount > errors.prefix(20).count { printError("… and \(errorCount - errors.prefix(20).count) more") }
            throw ImportFailure("\(errorCount) bad lines; nothing was imported")
        }
        let summary = try importer.finish { done, all in
            progress.update(Double(done) / Double(all), "writing block \(done) of \(all)", force: true)
        }
        progress.finish()
        print(Self.report(summary, series: importer.seriesCount, files: files.count))
    }

    static func report(_ s: BlockImporter.Summary, series: Int, files: Int) -> String {
        var lines = ["imported \(s.samples) samples of \(series) series from \(files) file\(files == 1 ? "" : "s") into \(s.blocks.count) block\(s.blocks.count == 1 ? "" : "s")"
            + (s.duplicates > 0 ? " (\(s.duplicates) repeated timestamps dropped)" : "")]
        for b in s.blocks {
            lines.append("  \(b.ulid)  \(formatTime(b.minTime)) – \(formatTime(b.maxTime))  \(b.stats.numSeries) series, \(b.stats.numSamples) samples")
        }
        return lines.joined(separator: "\n")
    }
}

/// Milliseconds as an RFC 3339 UTC time.
func formatTime(_ ms: Int64) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}
