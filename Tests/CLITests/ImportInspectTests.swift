import Foundation
import Testing
import TestSupport

/// `sextant import`, then `sextant inspect`, then an offline `sextant query`, on the built
/// binary, with exact output.
@Suite struct ImportInspectTests {
    /// 2025-11-26T08:00:00Z, on a 2 h block boundary.
    static let base: Int64 = 1_764_144_000_000

    /// Two counters every 15 min over 3 h in the text format (milliseconds), newest first.
    static func textFile() -> String {
        var lines = ["# TYPE http_requests_total counter"]
        for k in (0...12).reversed() {
            let t = base + Int64(k) * 900_000
            lines.append("http_requests_total{code=\"200\",job=\"api\"} \(k * 10) \(t)")
            lines.append("http_requests_total{job=\"api\",code=\"500\"} \(k) \(t)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A gauge every 30 min in OpenMetrics (seconds), with an exemplar and one timestamp given
    /// twice: the later line wins.
    static func openMetricsFile() -> String {
        var lines = ["# TYPE room_temperature_celsius gauge"]
        for k in 0...5 {
            let seconds = (base + Int64(k) * 1_800_000) / 1000
            lines.append("room_temperature_celsius{room=\"lab\"} \(20 + Double(k) / 2) \(seconds).000 # {trace_id=\"x\"} 1")
        }
        lines.append("room_temperature_celsius{room=\"lab\"} 99 \((base + 3_600_000) / 1000)")
        return lines.joined(separator: "\n") + "\n# EOF\n"
    }

    static func withULIDsHidden(_ s: String) -> String {
        s.replacingOccurrences(of: "[0-9A-HJKMNP-TV-Z]{26}", with: "<ULID>", options: .regularExpression)
    }

    @Test func importThenInspectThenQueryOffline() async throws {
        let dir = NSTemporaryDirectory() + "sextant-import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.textFile().write(toFile: dir + "/counters.prom", atomically: true, encoding: .utf8)
        try Self.openMetricsFile().write(toFile: dir + "/room.om", atomically: true, encoding: .utf8)
        let data = dir + "/data"

        let imported = try await runSextant(["import", dir + "/counters.prom", dir + "/room.om", "--storage.tsdb.path", data])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.isEmpty, "no progress bar when stderr is not a terminal")
        #expect(Self.withULIDsHidden(imported.stdout) == """
            imported 32 samples of 3 series from 2 files into 2 blocks (1 repeated timestamps dropped)
              <ULID>  2025-11-26T08:00:00Z – 2025-11-26T10:00:00Z  3 series, 20 samples
              <ULID>  2025-11-26T10:00:00Z – 2025-11-26T12:00:00Z  3 series, 12 samples

            """)

        let inspected = try await runSextant(["inspect", "--storage.tsdb.path", data, "--top", "3"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let lines = Self.withULIDsHidden(inspected.stdout).split(separator: "\n", omittingEmptySubsequences: false)
        // Block sizes depend on SQLite's page layout; everything else is exact.
        let blockRows = lines.filter { $0.hasPrefix("<ULID>") }.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(blockRows.map { Array($0.prefix(7)) } == [
            ["<ULID>", "2025-11-26T08:00:00Z", "2025-11-26T10:00:00Z", "1", "3", "20", "3"],
            ["<ULID>", "2025-11-26T10:00:00Z", "2025-11-26T12:00:00Z", "1", "3", "12", "3"],
        ])
        let rest = lines.filter { !$0.hasPrefix("<ULID>") && !$0.hasPrefix("Blocks:") }.joined(separator: "\n")
        #expect(rest == """
            Data directory \(data)

            ULID                        FROM                  TO                    LEVEL  SERIES  SAMPLES  CHUNKS  BYTES  BYTES/SAMPLE

            Head: 0 series, 0 samples, 0 chunks
            WAL: 0 segments, 0 B

            Series: 3

            Top metric names by series:
            METRIC                    SERIES
            http_requests_total       2
            room_temperature_celsius  1

            Top label names by distinct values:
            LABEL     VALUES
            __name__  2
            code      2
            job       1

            Top label pairs by series:
            PAIR                               SERIES
            __name__=http_requests_total       2
            job=api                            2
            __name__=room_temperature_celsius  1

            """)

        let json = try await runSextant(["inspect", "--storage.tsdb.path", data, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let blocks = report?["blocks"] as? [[String: Any]] ?? []
        #expect(blocks.map { $0["samples"] as? Int } == [20, 12])
        #expect(blocks.allSatisfy { ($0["bytes"] as? Int ?? 0) > 0 })
        #expect(report?["series"] as? Int == 3)

        let atEnd = try await runSextant(["query", "sum by (code) (http_requests_total)", "--storage.tsdb.path", data,
                                    "--time", "\((Self.base + 3 * 3_600_000) / 1000)"])
        #expect(atEnd.stdout == """
            SERIES        TIMESTAMP   VALUE
            {code="200"}  1764154800  120
            {code="500"}  1764154800  12

            """)
        let range = try await runSextant(["query", "room_temperature_celsius", "--storage.tsdb.path", data, "--format", "csv",
                                    "--start", "2025-11-26T08:30:00Z", "--end", "2025-11-26T09:30:00Z", "--step", "30m"])
        #expect(range.stdout == """
            series,timestamp,value
            "room_temperature_celsius{room=""lab""}",1764145800,20.5
            "room_temperature_celsius{room=""lab""}",1764147600,99
            "room_temperature_celsius{room=""lab""}",1764149400,21.5

            """)
    }

    @Test func badLinesAreAllReportedAndNothingIsWritten() async throws {
        let dir = NSTemporaryDirectory() + "sextant-import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "up{job=\"a\"} 1 1000\nup{job=\"a\" 1 2000\nup 2\nup 1 notatime\nup 1 3000\nup 1 9223372036854775807\nup 1 -9223372036854775808\n"
            .write(toFile: dir + "/bad.prom", atomically: true, encoding: .utf8)
        try "up 1 1e300\n# EOF\n".write(toFile: dir + "/huge.om", atomically: true, encoding: .utf8)
        try "up 1 1\n".write(toFile: dir + "/noeof.om", atomically: true, encoding: .utf8)
        let data = dir + "/data"
        let r = try await runSextant(["import", dir + "/bad.prom", "--storage.tsdb.path", data])
        #expect(r.status != 0)
        #expect(r.stderr.contains("bad.prom:2: "))
        #expect(r.stderr.contains("bad.prom:3: a sample needs a timestamp to be imported"))
        #expect(r.stderr.contains("bad.prom:4: invalid timestamp \"notatime\""))
        #expect(r.stderr.contains("bad.prom:6: timestamp 9223372036854775807 is outside what the store accepts"))
        #expect(r.stderr.contains("bad.prom:7: invalid timestamp \"-9223372036854775808\""))
        #expect(r.stderr.contains("5 bad lines; nothing was imported"))
        #expect(r.stdout.isEmpty)
        let left = try FileManager.default.contentsOfDirectory(atPath: data)
        #expect(left == ["lock"])

        let om = try await runSextant(["import", dir + "/noeof.om", "--format", "openmetrics", "--storage.tsdb.path", data])
        #expect(om.status != 0 && om.stderr.contains("must end with \"# EOF\""))
        // OpenMetrics seconds past what milliseconds can hold: refused, not wrapped.
        let huge = try await runSextant(["import", dir + "/huge.om", "--storage.tsdb.path", data])
        #expect(huge.status != 0 && huge.stderr.contains("huge.om:1: timestamp"), "\(huge.stderr)")
        // A file that is one endless line is refused before it fills memory.
        try Data(repeating: UInt8(ascii: "x"), count: 17 << 20).write(to: URL(fileURLWithPath: dir + "/blob.prom"))
        let blob = try await runSextant(["import", dir + "/blob.prom", "--storage.tsdb.path", data])
        #expect(blob.status != 0 && blob.stderr.contains("blob.prom:1: a line longer than 16 MiB"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: data) == ["lock"])
        let missing = try await runSextant(["import", dir + "/none.prom", "--storage.tsdb.path", data])
        #expect(missing.status != 0 && missing.stderr.contains("cannot open"))
    }

    @Test func benchPrintsItsTable() async throws {
        let r = try await runSextant(["bench", "--series", "20", "--duration", "30m"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").map { String($0) }
        #expect(rows.first?.hasPrefix("BENCHMARK") == true)
        for measure in ["series x samples each", "samples/s (head + WAL", "codec bytes/sample", "Gorilla bytes/sample",
                        "on disk bytes/sample", "rate(bench_requests_total[5m])", "count by (__name__)"] {
            #expect(rows.contains { $0.contains(measure) }, "\(measure) missing")
        }
        #expect(rows.contains { $0.hasSuffix("20 x 120 = 2400 samples") })
    }

    @Test func everyCommandsHelpHasExamples() async throws {
        for command in [["serve"], ["query"], ["import"], ["inspect"], ["bench"], ["check", "config"]] {
            let r = try await runSextant(command + ["--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Examples:"), "\(command) --help has no examples")
        }
    }
}
