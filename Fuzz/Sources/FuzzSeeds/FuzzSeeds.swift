// Writes the binary seed corpora (WAL records, chunks, block indexes) with TSDB's own
// writers, so the seeds are the formats as Sextant writes them today:
//
//   Fuzz/.build/release/FuzzSeeds Fuzz/Corpus
//
// writes Fuzz/Corpus/{FuzzWALRecord,FuzzChunk,FuzzBlockIndex,FuzzRemoteProtocol}/seed-*; the text seeds of the
// other targets are written by hand. It is built with the fuzzers (same flags), but its entry
// point does not start libFuzzer. See Fuzz/README.md.
import Foundation
@testable import Remote
import SwiftProtobuf
@testable import TSDB

/// Never called; the libFuzzer runtime linked in by `-sanitize=fuzzer` refers to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { 0 }

/// The entry point (SwiftPM links `main` to `<target>_main`).
@_cdecl("FuzzSeeds_main")
func seedsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    let args = (0..<Int(argc)).compactMap { argv[$0].map { String(cString: $0) } }
    guard args.count == 2, !args[1].hasPrefix("-") else {
        FileHandle.standardError.write(Data("usage: FuzzSeeds CORPUS-DIRECTORY\n".utf8))
        return 2
    }
    do {
        try writeSeeds(to: args[1])
    } catch {
        FileHandle.standardError.write(Data("FuzzSeeds: \(error)\n".utf8))
        return 1
    }
    return 0
}

func writeSeeds(to corpus: String) throws {
    var written = 0
    func put(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
        let dir = corpus + "/" + target
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/seed-" + name))
        written += 1
    }
    try walSeeds(put)
    try chunkSeeds(put)
    try blockIndexSeeds(put)
    try remoteSeeds(put)
    print("FuzzSeeds: wrote \(written) seeds under \(corpus)")
}

// MARK: WAL

let seriesList: [(ref: SeriesRef, labels: Labels)] = [
    (1, Labels(["__name__": "up", "job": "api", "instance": "a:9100"])),
    (2, Labels(["__name__": "http_requests_total", "job": "api", "instance": "a:9100", "code": "200"])),
    (3, Labels(["__name__": "temperature", "room": "hall \"north\"", "note": "ünïcödé\n"])),
]

func walSeeds(_ put: (String, String, [UInt8]) throws -> Void) throws {
    let samples = [
        WALSample(ref: 1, t: 1_700_000_000_000, v: 1),
        WALSample(ref: 2, t: 1_700_000_000_000, v: 1234),
        WALSample(ref: 3, t: 1_700_000_000_250, v: .nan),
        WALSample(ref: 1, t: 1_700_000_015_000, v: staleMarker),
        WALSample(ref: 3, t: 1_699_999_999_000, v: -0.0),
    ]
    let stones = [Tombstone(ref: 2, minTime: 0, maxTime: 1_700_000_000_000), Tombstone(ref: 3, minTime: .min, maxTime: .max)]

    var segment: [UInt8] = []
    WALEncoding.encodeSeries(seriesList, into: &segment)
    WALEncoding.encodeSamples(samples, count: samples.count, into: &segment)
    WALEncoding.encodeTombstones(stones, into: &segment)
    try put("FuzzWALRecord", "segment", segment)
    try put("FuzzWALRecord", "segment-torn", Array(segment.dropLast(5)))

    // Single records as `type byte, payload` (the harness's direct decode).
    for (name, encode) in [
        ("series", { (o: inout [UInt8]) in WALEncoding.encodeSeries(seriesList, into: &o) }),
        ("samples", { (o: inout [UInt8]) in WALEncoding.encodeSamples(samples, count: samples.count, into: &o) }),
        ("tombstones", { (o: inout [UInt8]) in WALEncoding.encodeTombstones(stones, into: &o) }),
        ("samples-empty", { (o: inout [UInt8]) in WALEncoding.encodeSamples([], count: 0, into: &o) }),
    ] {
        var framed: [UInt8] = []
        encode(&framed)
        try put("FuzzWALRecord", "record-" + name, [framed[0]] + framed[WALEncoding.headerSize...])
    }
}

// MARK: Chunks

/// A few series shapes: regular scrapes, jitter, gaps, counters, decimals, constants.
func chunkSamples() -> [(name: String, ts: [Int64], vs: [Double])] {
    let regular: [Int64] = (0..<24).map { (i: Int) -> Int64 in Int64(i) * 15_000 + 1_700_000_000_000 }
    let jitter: [Int64] = (0..<24).map { (i: Int) -> Int64 in
        let noise = Int64((i * 37) % 11) - 5
        return Int64(i) * 15_000 + noise
    }
    var gaps = regular
    gaps.remove(at: 10)
    gaps.remove(at: 5)
    let counter: [Double] = regular.indices.map { Double($0 * 17) }
    let wave: [Double] = jitter.indices.map { sin(Double($0)) * 100 }
    let decimals: [Double] = gaps.indices.map { Double($0 * 25) / 100 }
    let ones = [Double](repeating: 1, count: regular.count)
    let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, staleMarker, 0]
    var out: [(name: String, ts: [Int64], vs: [Double])] = []
    out.append(("regular-counter", regular, counter))
    out.append(("jitter-gauge", jitter, wave))
    out.append(("gaps-decimal", gaps, decimals))
    out.append(("constant", regular, ones))
    out.append(("specials", Array(regular.prefix(6)), specials))
    out.append(("one-sample", [42], [3.5]))
    out.append(("irregular", [-5, 0, 1, 1_000, 1_000_000, 1_000_000_000_000], [1, 2, 3, 4, 5, 6]))
    return out
}

/// A chunk's bytes, copied while the chunk (which owns them) is alive.
func bytes(_ chunk: Chunk) -> [UInt8] {
    withExtendedLifetime(chunk) { Array(chunk.bytes) }
}

func chunkSeeds(_ put: (String, String, [UInt8]) throws -> Void) throws {
    let decode: UInt8 = 0, shared: UInt8 = 1, roundTrip: UInt8 = 2
    for (name, ts, vs) in chunkSamples() {
        // Decoding: the appendable encoding, the sealed choice, and each forced encoding.
        var appender = ChunkAppender()
        for (t, v) in zip(ts, vs) { appender.append(t, v) }
        try put("FuzzChunk", "decode-\(name)-appendable", [decode] + bytes(appender.snapshot()))
        let sealed = ChunkEncoder.encode(timestamps: ts, values: vs)
        try put("FuzzChunk", "decode-\(name)-sealed", [decode] + bytes(sealed))
        if name == "regular-counter" || name == "jitter-gauge" {
            for t in TimestampEncoding.allCases {
                for v in [ValueEncoding.xor, .decimal] {
                    let c = ChunkEncoder.encode(timestamps: ts, values: vs, only: ChunkEncoding(timestamps: t, values: v))
                    try put("FuzzChunk", "decode-\(name)-\(t)-\(v)", [decode] + bytes(c))
                }
            }
        }

        // A shared-timestamps chunk: the sealed chunk's column given apart, the chunk's own
        // column a one-byte reference (as in block files).
        let h = try sealed.header()
        let sealedBytes = bytes(sealed)
        var chunk: [UInt8] = []
        ChunkHeader.write(encoding: ChunkEncoding(timestamps: .shared, values: h.encoding.values), count: h.count,
                          minTime: h.minTime, maxTime: h.maxTime, timestampBytes: 1, to: &chunk)
        chunk.append(0)
        chunk.append(contentsOf: sealedBytes[h.valueColumn])
        var input: [UInt8] = [shared, h.encoding.timestamps.rawValue]
        Varint.appendUnsigned(UInt64(h.timestampColumn.count), to: &input)
        input.append(contentsOf: sealedBytes[h.timestampColumn])
        input.append(contentsOf: chunk)
        try put("FuzzChunk", "shared-\(name)", input)

        // Round trip: the samples as (time, value bits) pairs.
        var pairs: [UInt8] = [roundTrip]
        for (t, v) in zip(ts, vs) {
            withUnsafeBytes(of: t.littleEndian) { pairs.append(contentsOf: $0) }
            withUnsafeBytes(of: v.bitPattern.littleEndian) { pairs.append(contentsOf: $0) }
        }
        try put("FuzzChunk", "roundtrip-\(name)", pairs)
        if name == "jitter-gauge" {
            // The same samples with forced encodings (selector 1...9).
            for k: UInt8 in [1, 2, 3, 7] { try put("FuzzChunk", "roundtrip-\(name)-forced\(k)", [roundTrip + 3 * k] + pairs.dropFirst()) }
        }
    }
}

// MARK: Block index

func blockIndexSeeds(_ put: (String, String, [UInt8]) throws -> Void) throws {
    let parent = NSTemporaryDirectory() + "sextant-fuzzseeds-\(getpid())"
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: parent) }

    var series: [(Labels, [ChunkMeta])] = []
    let ts = (0..<8).map { Int64($0) * 15_000 }
    for (labels, scale) in [
        (Labels(["__name__": "up", "job": "api", "instance": "a:9100"]), 0.0),
        (Labels(["__name__": "up", "job": "db", "instance": "b:9100"]), 0.0),
        (Labels(["__name__": "http_requests_total", "job": "api", "instance": "a:9100", "code": "200"]), 10.0),
        (Labels(["__name__": "http_requests_total", "job": "api", "instance": "a:9100", "code": "500"]), 1.0),
        (Labels(["__name__": "latency_bucket", "job": "api", "le": "0.5"]), 2.0),
        (Labels(["__name__": "latency_bucket", "job": "api", "le": "+Inf"]), 3.0),
    ] {
        let first = ChunkEncoder.encode(timestamps: Array(ts.prefix(4)), values: ts.prefix(4).indices.map { 1 + Double($0) * scale })
        let second = ChunkEncoder.encode(timestamps: Array(ts.suffix(4)), values: ts.suffix(4).indices.map { 1 + Double($0) * scale })
        series.append((labels, [ChunkMeta(minTime: ts[0], maxTime: ts[3], chunk: first),
                                ChunkMeta(minTime: ts[4], maxTime: ts[7], chunk: second)]))
    }
    series.sort { $0.0 < $1.0 }
    let meta = try BlockWriter.write(parent: parent, minTime: 0, maxTime: 120_000, level: 1, sources: [], parents: []) { emit in
        for (labels, chunks) in series { try emit(labels, chunks) }
    }
    let index = parent + "/" + meta.ulid + "/index.db"
    try put("FuzzBlockIndex", "index-as-written", Array(try Data(contentsOf: URL(fileURLWithPath: index))))

    // The same database at SQLite's smallest page size: a much smaller input to mutate.
    let small = parent + "/small.db"
    try FileManager.default.copyItem(atPath: index, toPath: small)
    do {
        let db = try SQLiteDatabase(path: small, readOnly: false)
        try db.exec("PRAGMA page_size=512; VACUUM;")
    }
    try put("FuzzBlockIndex", "index-small", Array(try Data(contentsOf: URL(fileURLWithPath: small))))

    // An index of the older format: labels as JSON arrays of symbol ids.
    let json = parent + "/json.db"
    try FileManager.default.copyItem(atPath: small, toPath: json)
    do {
        let db = try SQLiteDatabase(path: json, readOnly: false)
        let symbols = try db.prepare("SELECT id, symbol FROM symbols")
        var ids: [String: Int64] = [:]
        while try symbols.step() { ids[symbols.text(1)] = symbols.int64(0) }
        let update = try db.prepare("UPDATE series SET labels = ? WHERE id = ?")
        for (id, (labels, _)) in series.enumerated() {
            let text = "[" + labels.flatMap { [ids[$0.name]!, ids[$0.value]!] }.map(String.init).joined(separator: ",") + "]"
            update.bind(1, text)
            update.bind(2, Int64(id))
            try update.run()
        }
        try db.exec("VACUUM;")
    }
    try put("FuzzBlockIndex", "index-json-labels", Array(try Data(contentsOf: URL(fileURLWithPath: json))))
}

// MARK: Remote write and read

/// Remote write and read bodies (snappy and bare protobuf) and a batch's sample bytes.
func remoteSeeds(_ put: (String, String, [UInt8]) throws -> Void) throws {
    var write = Prometheus_WriteRequest()
    for (k, (_, labels)) in seriesList.enumerated() {
        var ts = Prometheus_TimeSeries()
        ts.labels = labels.map { l in
            var w = Prometheus_Label()
            w.name = l.name
            w.value = l.value
            return w
        }
        ts.samples = [(0, 1.0), (15_000, .nan), (30_000, -0.0), (45_000, Double(bitPattern: 0x7FF0_0000_0000_0002))].map { t, v in
            var s = Prometheus_Sample()
            s.timestamp = Int64(t + k)
            s.value = v
            return s
        }
        write.timeseries.append(ts)
    }
    var meta = Prometheus_MetricMetadata()
    meta.metricFamilyName = "up"
    meta.type = .gauge
    meta.help = "1 when the target answered"
    write.metadata = [meta]
    let writeBytes: [UInt8] = try write.serializedBytes()
    try put("FuzzRemoteProtocol", "write-snappy", Snappy.compress(writeBytes))
    try put("FuzzRemoteProtocol", "write-protobuf", writeBytes)

    var read = Prometheus_ReadRequest()
    var query = Prometheus_Query()
    query.startTimestampMs = 0
    query.endTimestampMs = 300_000
    query.matchers = [(Prometheus_LabelMatcher.TypeEnum.eq, "job", "api"), (.re, "__name__", "m[01]"), (.nre, "k", "3|4"),
                      (.neq, "region", "us")].map { type, name, value in
        var m = Prometheus_LabelMatcher()
        m.type = type
        m.name = name
        m.value = value
        return m
    }
    read.queries = [query]
    read.acceptedResponseTypes = [.streamedXorChunks, .samples]
    let readBytes: [UInt8] = try read.serializedBytes()
    try put("FuzzRemoteProtocol", "read-snappy", Snappy.compress(readBytes))
    try put("FuzzRemoteProtocol", "read-protobuf", readBytes)

    // Batch input: series index, then time and value, big-endian, 17 bytes a sample.
    var batch: [UInt8] = []
    for (s, t, v) in [(0, Int64(1_700_000_000_000), 1.0), (1, 0, -0.0), (0, -1, Double.nan), (3, Int64.max, Double.infinity)] {
        batch.append(UInt8(s))
        withUnsafeBytes(of: UInt64(bitPattern: t).bigEndian) { batch.append(contentsOf: $0) }
        withUnsafeBytes(of: v.bitPattern.bigEndian) { batch.append(contentsOf: $0) }
    }
    try put("FuzzRemoteProtocol", "batch", batch)
}
