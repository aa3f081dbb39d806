import Foundation
import TSDB

/// What a data directory holds: its blocks, its head (the WAL replayed), the WAL's size, and
/// the largest cardinalities across all of it. Field names follow /api/v1/status/tsdb.
struct StoreReport: Codable, Equatable {
    struct BlockSummary: Codable, Equatable {
        var ulid: String
        var minTime: Int64
        var maxTime: Int64
        var level: Int
        var series: Int
        var samples: Int
        var chunks: Int
        var bytes: Int
        var bytesPerSample: Double
    }
    struct HeadSummary: Codable, Equatable {
        var series: Int
        var samples: Int
        var chunks: Int
        var minTime: Int64?
        var maxTime: Int64?
    }
    struct WALSummary: Codable, Equatable {
        var segments: Int
        var bytes: Int
    }
    struct Count: Codable, Equatable {
        var name: String
        var value: Int
    }

    var directory: String
    var blocks: [BlockSummary]
    var head: HeadSummary
    var wal: WALSummary
    /// Distinct series across blocks and head.
    var series: Int
    var seriesCountByMetricName: [Count]
    var labelValueCountByLabelName: [Count]
    var seriesCountByLabelValuePair: [Count]
    var problems: [String]

    init(_ db: ReadOnlyDB, top: Int) {
        directory = db.directory
        blocks = db.blocks.map { b in
            let m = b.meta
            let bytes = b.size
            return BlockSummary(ulid: m.ulid, minTime: m.minTime, maxTime: m.maxTime, level: m.compaction.level,
                                series: m.stats.numSeries, samples: m.stats.numSamples, chunks: m.stats.numChunks,
                                bytes: bytes, bytesPerSample: m.stats.numSamples > 0 ? (Double(bytes) / Double(m.stats.numSamples) * 1000).rounded() / 1000 : 0)
        }
        let stats = db.head.stats, counts = db.head.contentCounts()
        head = HeadSummary(series: stats.series, samples: counts.samples, chunks: counts.chunks,
                           minTime: counts.samples > 0 ? stats.minTime : nil, maxTime: counts.samples > 0 ? stats.maxTime : nil)
        let usage = db.walUsage
        wal = WALSummary(segments: usage.segments, bytes: usage.bytes)
        problems = db.problems
        (series, seriesCountByMetricName, labelValueCountByLabelName, seriesCountByLabelValuePair) = Self.cardinality(db, top: top)
    }

    /// Every series of the store once (blocks and head merged), counted by metric name, by
    /// label name (distinct values) and by label pair; the `top` largest of each.
    static func cardinality(_ db: ReadOnlyDB, top: Int) -> (Int, [Count], [Count], [Count]) {
        var byMetric: [String: Int] = [:]
        var values: [String: Set<String>] = [:]
        var pairs: [String: Int] = [:]
        var series = 0
        guard let all = try? LabelMatcher(.regexMatch, Labels.metricName, ".+") else { return (0, [], [], []) }
        var set = db.querier(mint: .min, maxt: .max).select([all], hints: nil)
        while set.next() {
            series += 1
            for label in set.at().labels {
                if label.name == Labels.metricName { byMetric[label.value, default: 0] += 1 }
                values[label.name, default: []].insert(label.value)
                pairs["\(label.name)=\(label.value)", default: 0] += 1
            }
        }
        func largest(_ d: [String: Int]) -> [Count] {
            Array(d.map { Count(name: $0.key, value: $0.value) }
                .sorted { $0.value != $1.value ? $0.value > $1.value : $0.name < $1.name }.prefix(top))
        }
        return (series, largest(byMetric), largest(values.mapValues(\.count)), largest(pairs))
    }
}

extension StoreReport {
    /// The report as tables for people.
    var text: String {
        var out = "Data directory \(directory)\n"
        let blockBytes = blocks.reduce(0) { $0 + $1.bytes }
        let blockSamples = blocks.reduce(0) { $0 + $1.samples }
        out += "\nBlocks: \(blocks.count), \(blockSamples) samples, \(formatBytes(blockBytes))"
        if blockSamples > 0 { out += ", " + String(format: "%.2f", Double(blockBytes) / Double(blockSamples)) + " bytes/sample" }
        out += "\n"
        if !blocks.isEmpty {
            out += textTable([["ULID", "FROM", "TO", "LEVEL", "SERIES", "SAMPLES", "CHUNKS", "BYTES", "BYTES/SAMPLE"]] + blocks.map {
                [$0.ulid, formatTime($0.minTime), formatTime($0.maxTime), "\($0.level)", "\($0.series)", "\($0.samples)",
                 "\($0.chunks)", "\($0.bytes)", String(format: "%.2f", $0.bytesPerSample)]
            })
        }
        out += "\nHead: \(head.series) series, \(head.samples) samples, \(head.chunks) chunks"
        if let mint = head.minTime, let maxt = head.maxTime { out += ", \(formatTime(mint)) – \(formatTime(maxt))" }
        out += "\nWAL: \(wal.segments) segments, \(formatBytes(wal.bytes))\n"
        out += "\nSeries: \(series)\n"
        out += section("Top metric names by series", ["METRIC", "SERIES"], seriesCountByMetricName)
        out += section("Top label names by distinct values", ["LABEL", "VALUES"], labelValueCountByLabelName)
        out += section("Top label pairs by series", ["PAIR", "SERIES"], seriesCountByLabelValuePair)
        for p in problems { out += "\nwarning: \(p)" }
        return out
    }

    func section(_ title: String, _ header: [String], _ counts: [Count]) -> String {
        guard !counts.isEmpty else { return "" }
        return "\n\(title):\n" + textTable([header] + counts.map { [$0.name, "\($0.value)"] })
    }

    /// The report as JSON, keys sorted.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}
