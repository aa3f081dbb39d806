import Foundation
import SwiftProtobuf
import Storage
import TSDB

/// The serving half of remote read: answers a `ReadRequest` from a store, as Prometheus'
/// `POST /api/v1/read` does, either as one snappy-compressed `ReadResponse` of samples or as a
/// stream of `ChunkedReadResponse` frames holding Prometheus XOR chunks.
///
/// External labels are not stored: an equality matcher on an external label's own value is
/// turned into "absent", and every answered series carries the external labels (its own
/// label wins on a clash).
public struct ReadService: Sendable {
    /// How the answer is encoded.
    public enum ResponseKind: Sendable, Equatable {
        case samples
        case streamedChunks
    }

    /// Why a read was refused; `isClientError` separates 400 from 500 answers.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public let isClientError: Bool

        public init(description: String, isClientError: Bool) {
            self.description = description
            self.isClientError = isClientError
        }
    }

    public var queryable: any Queryable
    public var externalLabels: Labels
    /// Most samples one query of a `samples` answer may return (0: no limit), as
    /// `--storage.remote.read-sample-limit`.
    public var sampleLimit: Int
    /// Frame size a streamed answer aims at (`--storage.remote.read-max-bytes-in-frame`).
    public var maxBytesInFrame: Int
    /// Largest compressed request and decoded request taken.
    public var maxRequestBytes: Int

    public init(queryable: any Queryable, externalLabels: Labels = .empty, sampleLimit: Int = 50_000_000,
                maxBytesInFrame: Int = 1 << 20, maxRequestBytes: Int = 32 << 20) {
        self.queryable = queryable
        self.externalLabels = externalLabels
        self.sampleLimit = sampleLimit
        self.maxBytesInFrame = maxBytesInFrame
        self.maxRequestBytes = maxRequestBytes
    }

    /// Decodes a request body (snappy block, then protobuf).
    public func decode(_ body: some ContiguousBytes) throws(Failure) -> Prometheus_ReadRequest {
        let size = body.withUnsafeBytes { $0.count }
        guard size <= maxRequestBytes else { throw Failure(description: "request body of \(size) bytes is larger than the limit of \(maxRequestBytes)", isClientError: true) }
        do {
            let bytes = try Snappy.decompress(body, limit: maxRequestBytes)
            return try Prometheus_ReadRequest(serializedBytes: bytes)
        } catch {
            throw Failure(description: "decoding the read request: \(error)", isClientError: true)
        }
    }

    /// The first accepted response type that is served; SAMPLES when the list is empty.
    public static func negotiate(_ request: Prometheus_ReadRequest) throws(Failure) -> ResponseKind {
        if request.acceptedResponseTypes.isEmpty { return .samples }
        for t in request.acceptedResponseTypes {
            switch t {
            case .samples: return .samples
            case .streamedXorChunks: return .streamedChunks
            case .UNRECOGNIZED: continue
            }
        }
        throw Failure(description: "server does not support any of the requested response types: \(request.acceptedResponseTypes); supported: SAMPLES, STREAMED_XOR_CHUNKS", isClientError: true)
    }

    /// The snappy-compressed `ReadResponse` for `request`, each query's samples in series order.
    /// `deadline`, when set, ends the work with an error once passed; so does an answer whose
    /// protobuf would pass `maxResponseBytes` (0: no limit), counted while it is built.
    public func samples(_ request: Prometheus_ReadRequest, deadline: ContinuousClock.Instant? = nil,
                        maxResponseBytes: Int = 0) throws(Failure) -> [UInt8] {
        var response = Prometheus_ReadResponse()
        var bytes = 0
        func grow(by n: Int) throws(Failure) {
            bytes += n
            if maxResponseBytes > 0 && bytes > maxResponseBytes {
                throw Failure(description: "the answer passed \(maxResponseBytes) bytes (--query.max-response-bytes)", isClientError: true)
            }
        }
        for query in request.queries {
            var result = Prometheus_QueryResult()
            var count = 0
            try forEachSeries(query, deadline: deadline) { (labels, iterator) throws(Failure) in
                var ts = Prometheus_TimeSeries()
                ts.labels = labels.wire
                // Labels and framing, then each sample's bytes (tag, length, value, time).
                try grow(by: 16 + labels.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 6 })
                while iterator.next() {
                    count += 1
                    if sampleLimit > 0 && count > sampleLimit {
                        throw Failure(description: "exceeded sample limit (\(sampleLimit))", isClientError: true)
                    }
                    let (t, v) = iterator.at()
                    try grow(by: 13 + Varint.unsignedSize(UInt64(bitPattern: t)))
                    var s = Prometheus_Sample()
                    s.timestamp = t
                    s.value = v
                    ts.samples.append(s)
                }
                result.timeseries.append(ts)
            }
            response.results.append(result)
        }
        do { return Snappy.compress(try response.serializedBytes() as [UInt8]) } catch {
            throw Failure(description: "encoding the read response: \(error)", isClientError: false)
        }
    }

    /// Streams `request` as frames (`uvarint length, CRC-32C big-endian, ChunkedReadResponse`),
    /// at most one series per frame, a series split over frames when its chunks pass
    /// `maxBytesInFrame`. `write` sends a frame; its errors end the stream.
    public func streamChunks(_ request: Prometheus_ReadRequest, deadline: ContinuousClock.Instant? = nil,
                             write: ([UInt8]) throws(Failure) -> Void) throws(Failure) {
        for (index, query) in request.queries.enumerated() {
            try forEachSeries(query, deadline: deadline) { (labels, iterator) throws(Failure) in
                let wireLabels = labels.wire
                let labelBytes = labels.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
                var frame = Prometheus_ChunkedSeries()
                frame.labels = wireLabels
                var frameBytes = labelBytes
                var encoder = XORChunkEncoder()
                func flushChunk() throws(Failure) {
                    guard encoder.count > 0 else { return }
                    var chunk = Prometheus_Chunk()
                    chunk.minTimeMs = encoder.minTime
                    chunk.maxTimeMs = encoder.maxTime
                    chunk.type = .xor
                    chunk.data = Data(encoder.bytes)
                    frameBytes += encoder.bytes.count
                    frame.chunks.append(chunk)
                    encoder = XORChunkEncoder()
                    if frameBytes >= maxBytesInFrame {
                        try write(Self.frame(frame, query: index))
                        frame.chunks.removeAll(keepingCapacity: true)
                        frameBytes = labelBytes
                    }
                }
                while iterator.next() {
                    let (t, v) = iterator.at()
                    encoder.append(t, v)
                    if encoder.count == XORChunkEncoder.maxSamples { try flushChunk() }
                }
                try flushChunk()
                if !frame.chunks.isEmpty { try write(Self.frame(frame, query: index)) }
            }
        }
    }

    /// One frame of a streamed answer.
    static func frame(_ series: Prometheus_ChunkedSeries, query: Int) throws(Failure) -> [UInt8] {
        var message = Prometheus_ChunkedReadResponse()
        message.chunkedSeries = [series]
        message.queryIndex = Int64(query)
        let data: [UInt8]
        do { data = try message.serializedBytes() } catch {
            throw Failure(description: "encoding a read frame: \(error)", isClientError: false)
        }
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 14)
        Varint.appendUnsigned(UInt64(data.count), to: &out)
        let crc = CRC32C.checksum(data)
        out.append(contentsOf: [UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)])
        out.append(contentsOf: data)
        return out
    }

    /// Runs one query: the selected series, external labels added, each with its iterator.
    func forEachSeries(_ query: Prometheus_Query, deadline: ContinuousClock.Instant?,
                       _ body: (Labels, inout any SeriesIterator) throws(Failure) -> Void) throws(Failure) {
        guard query.startTimestampMs <= query.endTimestampMs else { return }
        var matchers: [LabelMatcher] = []
        for m in query.matchers {
            do { matchers.append(try LabelMatcher(wire: m)) } catch {
                throw Failure(description: "\(error)", isClientError: true)
            }
        }
        matchers = matchers.map(storedMatcher)
        var hints = SelectHints(start: query.startTimestampMs, end: query.endTimestampMs, step: query.hints.stepMs)
        if !query.hints.`func`.isEmpty { hints.function = query.hints.`func` }
        let querier = queryable.querier(mint: query.startTimestampMs, maxt: query.endTimestampMs)
        var set = querier.select(matchers, hints: hints)
        while set.next() {
            if let deadline, ContinuousClock.now > deadline {
                throw Failure(description: "remote read timed out", isClientError: false)
            }
            let series = set.at()
            var iterator = series.makeIterator()
            try body(withExternalLabels(series.labels), &iterator)
            if let error = iterator.error { throw Failure(description: "reading \(series.labels): \(error)", isClientError: false) }
        }
        if let error = set.error { throw Failure(description: "selecting series: \(error)", isClientError: false) }
    }

    /// An equality matcher on an external label's value matches series stored without it.
    func storedMatcher(_ m: LabelMatcher) -> LabelMatcher {
        guard m.type == .equal, let external = externalLabels[m.name], external == m.value else { return m }
        return .equal(m.name, "")
    }

    func withExternalLabels(_ labels: Labels) -> Labels {
        guard !externalLabels.isEmpty else { return labels }
        var merged = labels
        for l in externalLabels where labels[l.name] == nil { merged = merged.setting(l.name, to: l.value) }
        return merged
    }
}
