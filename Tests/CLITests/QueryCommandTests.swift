import Foundation
import Testing
import TestSupport
import TSDB

/// `sextant query` on a data directory (read-only) and against a running `sextant serve`.
@Suite struct QueryCommandTests {
    /// A directory holding two counters sampled every 15 s from t = 1000 s to 1060 s.
    static func makeData() throws -> String {
        let dir = NSTemporaryDirectory() + "sextant-query-\(UUID().uuidString)"
        let db = try DB.open(directory: dir)
        let app = db.appender()
        for (k, t) in stride(from: 1_000_000, through: 1_060_000, by: 15_000).enumerated() {
            try app.append(Labels(["__name__": "http_requests_total", "job": "api", "code": "200"]), Int64(t), Double(k + 1))
            try app.append(Labels(["__name__": "http_requests_total", "job": "api", "code": "500"]), Int64(t), Double(10 * (k + 1)))
        }
        try app.commit()
        db.close()
        return dir
    }

    @Test func instantRangeAndJSONOnADataDirectory() async throws {
        let dir = try Self.makeData()
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let table = try await runSextant(["query", "http_requests_total", "--storage.tsdb.path", dir, "--time", "1060"])
        #expect(table.status == 0)
        #expect(table.stdout == """
            SERIES                                      TIMESTAMP  VALUE
            http_requests_total{code="200", job="api"}  1060       5
            http_requests_total{code="500", job="api"}  1060       50

            """)

        let csv = try await runSextant(["query", "sum(http_requests_total)", "--storage.tsdb.path", dir,
                                  "--start", "1970-01-01T00:16:40Z", "--end", "1060", "--step", "30s", "--format", "csv"])
        #expect(csv.status == 0)
        #expect(csv.stdout == "series,timestamp,value\n{},1000,11\n{},1030,33\n{},1060,55\n")

        let json = try await runSextant(["query", "http_requests_total{code=\"500\"} * 2", "--storage.tsdb.path", dir,
                                   "--time", "1045", "--format", "json"])
        #expect(json.stdout == #"{"resultType":"vector","result":[{"metric":{"code":"500","job":"api"},"value":[1045,"80"]}]}"# + "\n")

        // Reading wrote nothing: the directory can still be opened and holds the same data.
        let again = try DB.open(directory: dir)
        #expect(again.head.stats.series == 2)
        again.close()
    }

    @Test func aTornWALTailIsReadAroundNotRepaired() async throws {
        let dir = try Self.makeData()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let segment = dir + "/wal/00000000"
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        handle.seekToEndOfFile()
        handle.write(Data([0x01, 0x00, 0x00, 0x7f, 0xde, 0xad]))
        handle.closeFile()
        let size = try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int

        let r = try await runSextant(["query", "http_requests_total{code=\"200\"}", "--storage.tsdb.path", dir, "--time", "1060", "--format", "csv"])
        #expect(r.status == 0)
        #expect(r.stdout == "series,timestamp,value\n\"http_requests_total{code=\"\"200\"\", job=\"\"api\"\"}\",1060,5\n")
        #expect(r.stderr.contains("warning: WAL segment") && r.stderr.contains("read up to"))
        #expect(try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int == size)
    }

    @Test func errorsGoToStderrWithAFailingStatus() async throws {
        let dir = try Self.makeData()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let parse = try await runSextant(["query", "sum(", "--storage.tsdb.path", dir])
        #expect(parse.status != 0 && parse.stdout.isEmpty)
        #expect(parse.stderr.contains("bad_data: 1:5: parse error"))

        let badTime = try await runSextant(["query", "up", "--storage.tsdb.path", dir, "--time", "yesterday"])
        #expect(badTime.status != 0 && badTime.stderr.contains("invalid --time \"yesterday\""))

        let db = try DB.open(directory: dir)
        let locked = try await runSextant(["query", "up", "--storage.tsdb.path", dir])
        #expect(locked.status != 0 && locked.stderr.contains("in use by another process"))
        db.close()

        let noServer = try await runSextant(["query", "up", "--server", "http://127.0.0.1:1"])
        #expect(noServer.status != 0 && noServer.stderr.contains("cannot reach http://127.0.0.1:1"))
    }
}

/// `sextant serve` with no arguments in an empty directory: it says what it does, and its own
/// `up` series answers `sextant query` within a scrape interval.
@Suite struct DefaultServeTests {
    @Test func serveWithNoArgumentsScrapesItself() async throws {
        let dir = NSTemporaryDirectory() + "sextant-serve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sextantBinary)
        process.arguments = ["serve"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        let log = Pipe()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The log is read as it comes, so the child never blocks on a full pipe.
        let logHandle = log.fileHandleForReading
        async let logged = offThePool { logHandle.readDataToEndOfFile() }

        var answer = ""
        // The first scrape comes within one 15 s interval (at the target's offset in it).
        _ = await eventually(45, every: .milliseconds(500)) {
            answer = (try? await runSextant(["query", "up"]).stdout) ?? ""
            return answer.contains("up{instance=\"localhost:9090\", job=\"sextant\"}")
        }
        #expect(answer.contains("up{instance=\"localhost:9090\", job=\"sextant\"}"))
        #expect(answer.hasSuffix("  1\n"))

        process.terminate()
        let output = String(decoding: try await logged, as: UTF8.self)
        #expect(output.contains("data in ./data, listening on 0.0.0.0:9090"))
        #expect(output.contains("scraping its own /metrics at localhost:9090 every 15s"))
        #expect(FileManager.default.fileExists(atPath: dir + "/data/wal"))
    }
}
