// Fuzzes the remote write and remote read wire formats (Sources/Remote): what
// `POST /api/v1/write` and `POST /api/v1/read` take from the network, and the queue's
// hand-written request encoding.
//
// Input, read four ways:
// 1. as a snappy block: `Snappy.decompress` with a 64 KiB limit; what decodes compresses and
//    decodes back to itself.
// 2. as a write request body (snappy, then protobuf) and as the protobuf alone: decoded and
//    appended to a small head by `WriteReceiver`; every sample is either accepted or refused.
// 3. as a read request body and as the protobuf alone: answered over the same head as
//    SAMPLES and as STREAMED_XOR_CHUNKS; every frame's length and checksum are right.
// 4. as samples for a `Batch` (series index, time, value per 17 bytes): the bytes the queue
//    sends decode with swift-protobuf to exactly those samples, grouped by series in order.
import CFuzzMain
import Foundation
@testable import Remote
import Storage
import SwiftProtobuf
import TSDB

/// A head with a few series (NaN, ±Inf, -0.0, a stale marker) for the read path to answer from.
let head: Head = {
    let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
    let app = head.appender()
    let values: [Double] = [1, .nan, .infinity, -.infinity, -0.0, staleMarker, 2.5]
    for job in ["api", "db"] {
        for (k, v) in values.enumerated() {
            let l = Labels(["__name__": "m\(k % 3)", "job": job, "k": "\(k)"])
            for step in 0..<20 {
                do { _ = try app.append(l, Int64(step) * 15_000, step == 10 ? v : Double(step)) } catch { fatalError("setup: \(error)") }
            }
        }
    }
    do { try app.commit() } catch { fatalError("setup: \(error)") }
    return head
}()

let receiver = WriteReceiver(maxBodyBytes: 1 << 16, maxDecodedBytes: 1 << 16)
let reader = ReadService(queryable: head, externalLabels: Labels(["region": "eu"]), sampleLimit: 10_000,
                         maxBytesInFrame: 512, maxRequestBytes: 1 << 16)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    checkSnappy(input)
    checkWrite(input)
    checkRead(input)
    checkBatch(input)
    return 0
}

func checkSnappy(_ input: [UInt8]) {
    guard let plain = try? Snappy.decompress(input, limit: 1 << 16) else { return }
    guard let again = try? Snappy.decompress(Snappy.compress(plain), limit: plain.count), again == plain else {
        fatalError("snappy: \(plain.count) decoded bytes do not survive compressing again")
    }
}

func checkWrite(_ input: [UInt8]) {
    var requests: [Prometheus_WriteRequest] = []
    if let r = try? receiver.decode(input) { requests.append(r) }
    if input.count <= 1 << 16, let r = try? Prometheus_WriteRequest(serializedBytes: input) { requests.append(r) }
    for request in requests {
        let app = head.appender()
        let outcome = receiver.append(request, to: app)
        app.rollback()
        let samples = request.timeseries.reduce(0) { $0 + $1.samples.count }
        let histograms = request.timeseries.reduce(0) { $0 + $1.histograms.count }
        guard outcome.accepted + outcome.rejected == samples + histograms, outcome.reasons.count <= 10 else {
            fatalError("write: \(samples) samples and \(histograms) histograms, \(outcome.accepted) accepted, \(outcome.rejected) refused")
        }
    }
}

func checkRead(_ input: [UInt8]) {
    var requests: [Prometheus_ReadRequest] = []
    if let r = try? reader.decode(input) { requests.append(r) }
    if input.count <= 1 << 16, let r = try? Prometheus_ReadRequest(serializedBytes: input) { requests.append(r) }
    for request in requests {
        guard request.queries.count <= 8 else { continue }     // each query walks the head
        _ = try? ReadService.negotiate(request)
        if let body = try? reader.samples(request) {
            guard (try? Prometheus_ReadResponse(serializedBytes: Snappy.decompress(body, limit: 64 << 20))) != nil else {
                fatalError("read: the SAMPLES answer does not decode")
            }
        }
        try? reader.streamChunks(request) { (frame: [UInt8]) throws(ReadService.Failure) in checkFrame(frame) }
    }
}

/// `uvarint length, CRC-32C (big-endian), ChunkedReadResponse`.
func checkFrame(_ frame: [UInt8]) {
    var length = 0, shift = 0, at = 0
    while at < frame.count {
        let b = frame[at]
        length |= Int(b & 0x7F) << shift
        at += 1
        if b < 0x80 { break }
        shift += 7
    }
    guard frame.count == at + 4 + length else { fatalError("read: frame of \(frame.count) bytes says \(length)") }
    let body = Array(frame[(at + 4)...])
    let crc = frame[at..<(at + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    guard crc == CRC32C.checksum(body), (try? Prometheus_ChunkedReadResponse(serializedBytes: body)) != nil else {
        fatalError("read: a frame's checksum or message is wrong")
    }
}

func checkBatch(_ input: [UInt8]) {
    let wires = (0..<4).map { WireSeries(Labels(["__name__": "s\($0)", "k": String(repeating: "v", count: $0 * 40 + 1)])) }
    var batch = Batch(capacity: 8)
    var owners = [Int32?](repeating: nil, count: wires.count)
    var expected = [[(Int64, UInt64)]](repeating: [], count: wires.count)
    var order: [Int] = []
    var at = 0
    while input.count - at >= 17 {
        let s = Int(input[at] % 4)
        let t = input[(at + 1)..<(at + 9)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let v = input[(at + 9)..<(at + 17)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        at += 17
        let owner = owners[s] ?? batch.addSeries(wires[s])
        if owners[s] == nil { order.append(s) }
        owners[s] = owner
        batch.add(owner: owner, Int64(bitPattern: t), Double(bitPattern: v), at: WALPosition(segment: 0, offset: 0, sample: at))
        expected[s].append((Int64(bitPattern: t), v))
    }
    guard let request = try? Prometheus_WriteRequest(serializedBytes: batch.protobuf()) else {
        fatalError("batch: the encoded request does not decode")
    }
    guard request.timeseries.count == order.count else { fatalError("batch: \(request.timeseries.count) series, \(order.count) added") }
    for (ts, s) in zip(request.timeseries, order) {
        let got = ts.samples.map { ($0.timestamp, $0.value.bitPattern) }
        guard ts.labels.map(\.value) == ["s\(s)", String(repeating: "v", count: s * 40 + 1)],
              got.count == expected[s].count, zip(got, expected[s]).allSatisfy({ $0 == $1 }) else {
            fatalError("batch: series \(s) decodes differently")
        }
    }
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzRemoteProtocol_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
