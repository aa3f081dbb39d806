import Foundation
import Storage
import Testing
import TestSupport
import TSDB
@testable import Remote


func wireSeries(_ labels: [(String, String)], _ samples: [(Int64, Double)]) -> Prometheus_TimeSeries {
    var ts = Prometheus_TimeSeries()
    ts.labels = labels.map { var l = Prometheus_Label(); l.name = $0.0; l.value = $0.1; return l }
    ts.samples = samples.map { var s = Prometheus_Sample(); s.timestamp = $0.0; s.value = $0.1; return s }
    return ts
}

/// Every sample of the series matching `matchers`, by labels.
func stored(_ db: DB, _ matchers: [LabelMatcher] = [.equal("job", "rw")]) -> [Labels: [(Int64, UInt64)]] {
    var out: [Labels: [(Int64, UInt64)]] = [:]
    var set = db.querier(mint: .min, maxt: .max).select(matchers, hints: nil)
    while set.next() {
        var it = set.at().makeIterator()
        while it.next() { let (t, v) = it.at(); out[set.at().labels, default: []].append((t, v.bitPattern)) }
    }
    return out
}

@Suite struct WriteReceiverTests {
    let now = Int64(Date().timeIntervalSince1970 * 1000)

    @Test func appendsSeriesRepeatedPerSampleAsPrometheusSendsThem() throws {
        let dir = temporaryDirectory()
        let db = try DB.open(directory: dir)
        defer { db.close(); try? FileManager.default.removeItem(atPath: dir) }
        let stale = Double(bitPattern: 0x7FF0_0000_0000_0002)
        var request = Prometheus_WriteRequest()
        // Unsorted labels, an empty-valued label (absent), one sample per entry.
        for (i, v) in [1.0, -0.0, .infinity, stale].enumerated() {
            request.timeseries.append(wireSeries([("job", "rw"), ("__name__", "up"), ("zone", "")], [(now - 4000 + Int64(i) * 1000, v)]))
        }
        let receiver = WriteReceiver()
        let decoded = try receiver.decode(Snappy.compress(try request.serializedBytes() as [UInt8]))
        let app = db.appender()
        let outcome = receiver.append(decoded, to: app)
        try app.commit()
        #expect(outcome == WriteReceiver.Outcome(accepted: 4, rejected: 0, reasons: []))
        let series = stored(db)
        #expect(series.keys.map(\.description) == ["up{job=\"rw\"}"])
        #expect(series.values.first?.map(\.1) == [1.0, -0.0, .infinity, stale].map(\.bitPattern))
    }

    /// A bad series or sample costs only itself; a resent batch (duplicates) is harmless.
    @Test func keepsTheRestWhenSomeSamplesAreRefused() throws {
        let dir = temporaryDirectory()
        let db = try DB.open(directory: dir)
        defer { db.close(); try? FileManager.default.removeItem(atPath: dir) }
        var request = Prometheus_WriteRequest()
        request.timeseries = [
            wireSeries([("__name__", "ok"), ("job", "rw")], [(now - 2000, 1), (now - 1000, 2)]),
            wireSeries([("__name__", "bad"), ("job", "rw"), ("0x", "1")], [(now, 1)]),
            wireSeries([("__name__", "dup"), ("job", "rw"), ("job", "again")], [(now, 1)]),
            wireSeries([("__name__", "future"), ("job", "rw")], [(now + 40 * 86_400_000, 1), (Int64.max, 2)]),
            wireSeries([("__name__", "ok"), ("job", "rw")], [(now - 3000, 9)]),
            wireSeries([("", "x")], [(now, 1)]),
            wireSeries([("__name__", "ok"), ("job", "rw")], [(now - 1000, 2)]),
        ]
        var h = Prometheus_Histogram(); h.timestamp = now
        var histogram = wireSeries([("__name__", "h"), ("job", "rw")], [])
        histogram.histograms = [h]
        request.timeseries.append(histogram)
        let receiver = WriteReceiver()
        let app = db.appender()
        let outcome = receiver.append(request, to: app)
        try app.commit()
        #expect(outcome.accepted == 3)   // two samples of `ok`, and the resent (duplicate) one
        #expect(outcome.rejected == 7)
        #expect(outcome.reasons.contains { $0.contains("invalid label name \"0x\"") })
        #expect(outcome.reasons.contains { $0.contains("label name \"job\" is not unique") })
        #expect(outcome.reasons.contains { $0.contains("too far in the future") })
        #expect(outcome.reasons.contains { $0.contains("out of order") })
        #expect(outcome.reasons.contains { $0.contains("native histograms") })
        #expect(stored(db).mapValues { $0.map(\.0) } == [Labels(["__name__": "ok", "job": "rw"]): [now - 2000, now - 1000]])
    }

    @Test func refusesUndecodableAndOversizedBodies() throws {
        let receiver = WriteReceiver(maxBodyBytes: 1000, maxDecodedBytes: 4000)
        #expect(throws: InvalidWireData.self) { try receiver.decode(Array("not snappy".utf8)) }
        #expect(throws: InvalidWireData.self) { try receiver.decode([UInt8](repeating: 0, count: 1001)) }
        #expect(throws: InvalidWireData.self) { try receiver.decode(Snappy.compress([UInt8](repeating: 0, count: 5000))) }
        // Snappy-valid bytes that are not a WriteRequest (field 1 with a truncated length).
        #expect(throws: InvalidWireData.self) { try receiver.decode(Snappy.compress([0x0A, 0xFF])) }
        #expect(try receiver.decode(Snappy.compress([UInt8]())).timeseries.isEmpty)
    }
}

@Suite struct ReadServiceTests {
    func database() throws -> (DB, String) {
        let dir = temporaryDirectory()
        let db = try DB.open(directory: dir)
        let app = db.appender()
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        for s in 0..<3 {
            for i in 0..<300 {
                try app.append(Labels(["__name__": "m", "job": "rw", "i": "\(s)"]), base + Int64(i) * 10_000, i == 7 ? .nan : Double(i * s))
            }
        }
        try app.append(Labels(["__name__": "other", "job": "rw"]), base, 1)
        try app.commit()
        return (db, dir)
    }

    func request(_ matchers: [LabelMatcher], _ types: [Prometheus_ReadRequest.ResponseType] = []) -> Prometheus_ReadRequest {
        var q = Prometheus_Query()
        q.startTimestampMs = 0
        q.endTimestampMs = .max
        q.matchers = matchers.map(\.wire)
        var r = Prometheus_ReadRequest()
        r.queries = [q, q]
        r.acceptedResponseTypes = types
        return r
    }

    @Test func answersSamplesWithExternalLabels() throws {
        let (db, dir) = try database()
        defer { db.close(); try? FileManager.default.removeItem(atPath: dir) }
        let service = ReadService(queryable: db, externalLabels: Labels(["cluster": "eu", "i": "x"]))
        let req = request([.equal("__name__", "m"), .equal("cluster", "eu"), try LabelMatcher(.regexMatch, "i", "0|2")])
        #expect(try ReadService.negotiate(req) == .samples)
        let body = try service.samples(req)
        let response = try Prometheus_ReadResponse(serializedBytes: try Snappy.decompress(body, limit: 1 << 26))
        #expect(response.results.count == 2)
        let series = response.results[0].timeseries
        #expect(series.map { Labels(sorted: $0.labels.map { Label($0.name, $0.value) }).description }
                == ["m{cluster=\"eu\", i=\"0\", job=\"rw\"}", "m{cluster=\"eu\", i=\"2\", job=\"rw\"}"])
        #expect(series[1].samples.count == 300)
        #expect(series[1].samples[8].value == 16)
        #expect(series[1].samples[7].value.isNaN)
    }

    @Test func enforcesTheSampleLimitPerQuery() throws {
        let (db, dir) = try database()
        defer { db.close(); try? FileManager.default.removeItem(atPath: dir) }
        let service = ReadService(queryable: db, sampleLimit: 500)
        #expect(throws: ReadService.Failure.self) { try service.samples(request([.equal("__name__", "m")])) }
        #expect(try service.samples(request([.equal("__name__", "m"), .equal("i", "1")])).count > 0)
    }

    /// A SAMPLES answer is held to the response size limit while it is built.
    @Test func holdsSampledAnswersToTheResponseSizeLimit() throws {
        let (db, dir) = try database()
        defer { db.close(); try? FileManager.default.removeItem(atPath: dir) }
        let service = ReadService(queryable: db)
        let req = request([.equal("__name__", "m")])
        let size = try Snappy.decompress(service.samples(req), limit: 1 << 30).count
        #expect(size > 1000)
        #expect(throws: ReadService.Failure.self) { try service.samples(req, maxResponseBytes: size / 2) }
        #expect(try service.samples(req, maxResponseBytes: size * 2).count > 0)
    }

    /// Frames decode (length, CRC-32C, message), chunks hold ≤ 120 samples, and every sample
    /// comes back through the independent decoder.
    @Test func streamsXORChunkFrames() throws {
        let (db, dir) = try database()
        defer { db.close(); try? FileManager.default.removeItem(atPath: dir) }
        let service = ReadService(queryable: db, maxBytesInFrame: 1024)
        let req = request([.equal("job", "rw")], [.streamedXorChunks, .samples])
        #expect(try ReadService.negotiate(req) == .streamedChunks)
        var frames: [[UInt8]] = []
        try service.streamChunks(req) { frames.append($0) }
        var samples: [Int: [String: [(Int64, UInt64)]]] = [:]
        for frame in frames {
            var length: UInt64 = 0, shift: UInt64 = 0, i = 0
            while true { let b = frame[i]; i += 1; length |= UInt64(b & 0x7F) << shift; if b < 0x80 { break }; shift += 7 }
            let crc = frame[i..<i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let data = Array(frame[(i + 4)...])
            #expect(data.count == Int(length))
            #expect(CRC32C.checksum(data) == crc)
            let message = try Prometheus_ChunkedReadResponse(serializedBytes: data)
            #expect(message.chunkedSeries.count == 1)
            for s in message.chunkedSeries {
                let key = s.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                for c in s.chunks {
                    let decoded = try XORChunkDecoder.decode(Array(c.data))
                    #expect(decoded.count <= 120 && c.type == .xor)
                    #expect(decoded.first?.0 == c.minTimeMs && decoded.last?.0 == c.maxTimeMs)
                    samples[Int(message.queryIndex), default: [:]][key, default: []].append(contentsOf: decoded)
                }
            }
        }
        #expect(frames.count > 4)  // 300-sample series split over frames of ~1 KiB
        for q in [0, 1] {
            #expect(samples[q]?.count == 4)
            let s2 = samples[q]?["__name__=m,i=2,job=rw"] ?? []
            #expect(s2.count == 300)
            #expect(s2.enumerated().allSatisfy { i, s in i == 7 ? Double(bitPattern: s.1).isNaN : s.1 == Double(i * 2).bitPattern })
        }
    }

    @Test func refusesUnsupportedResponseTypesAndBadMatchers() throws {
        var r = Prometheus_ReadRequest()
        r.acceptedResponseTypes = [.UNRECOGNIZED(7)]
        #expect(throws: ReadService.Failure.self) { try ReadService.negotiate(r) }
        var m = Prometheus_LabelMatcher()
        m.type = .re
        m.name = "a"
        m.value = "(unclosed"
        #expect(throws: InvalidWireData.self) { try LabelMatcher(wire: m) }
    }
}

@Suite struct WALTailTests {
    /// Records come back whole with their offsets, a record larger than the read size
    /// included, and a second read from the returned end finds only what was written since.
    @Test func readsWholeRecordsFromAnOffset() throws {
        let dir = temporaryDirectory()
        let db = try DB.open(directory: dir)
        defer { db.close(); try? FileManager.default.removeItem(atPath: dir) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let app = db.appender()
        for i in 0..<5000 { try app.append(Labels(["__name__": "wide", "i": "\(i)", "pad": String(repeating: "x", count: 40)]), now, 1) }
        try app.commit()
        let tail = WALTail(dataDirectory: dir)
        let segment = try #require(tail.segments.last)
        var series = 0, samples = 0, offsets: [Int] = []
        let first = try tail.read(segment: segment, from: 0, maxBytes: 1024) { record, offset in
            offsets.append(offset)
            switch record {
            case .series(let s): series += s.count
            case .samples(let s): samples += s.count
            }
        }
        #expect(series == 5000 && offsets.first == 0, "a 250 KB series record read with 1 KiB reads")
        // The samples record follows; reading on from the end gets it.
        var rest = first
        while samples == 0 {
            let next = try tail.read(segment: segment, from: rest.end, maxBytes: 1024) { record, _ in
                if case .samples(let s) = record { samples += s.count }
            }
            #expect(next.end > rest.end)
            rest = next
        }
        #expect(samples == 5000)
        let app2 = db.appender()
        try app2.append(Labels(["__name__": "wide", "i": "0", "pad": String(repeating: "x", count: 40)]), now + 1000, 2)
        try app2.commit()
        var later = 0
        _ = try tail.read(segment: segment, from: rest.end) { record, _ in if case .samples(let s) = record { later += s.count } }
        #expect(later == 1)
    }
}
