// Fuzzes the WAL record decoder (Sources/TSDB/WAL).
//
// Input, read three ways:
// 1. as a segment: `WALReader.records(in:)`, framing and CRC checks included;
// 2. as a segment whose frames get their CRCs recomputed first, so mutations reach the
//    payload decoder past the checksum;
// 3. as one record: the first byte is the type, the rest the payload, for
//    `WALRecord.decode(type:payload:)` directly.
// Property: a record that decodes, encoded again by WALEncoding, decodes to the same record.
import CFuzzMain
@testable import TSDB

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)

    // 1. The segment as stored.
    let result = WALReader.records(in: input, checkRoundTrip)
    precondition(result.validBytes >= 0 && result.validBytes <= size, "validBytes \(result.validBytes) of \(size)")
    precondition((result.corruption == nil) == (result.validBytes == size), "corruption \(String(describing: result.corruption)) at \(result.validBytes) of \(size)")

    // 2. The segment with valid checksums, in a buffer of exactly its size (for ASan).
    let fixed = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { fixed.deallocate() }
    if size > 0 { fixed.copyMemory(from: input) }
    repairChecksums(fixed)
    _ = WALReader.records(in: UnsafeRawBufferPointer(fixed), checkRoundTrip)

    // 3. One record: type byte, then the payload.
    if size >= 1, let record = try? WALRecord.decode(type: data[0], payload: UnsafeRawBufferPointer(rebasing: input[1...])) {
        checkRoundTrip(record)
    }
    return 0
}

/// Encodes `record` again and checks that it decodes to the same record.
func checkRoundTrip(_ record: WALRecord) {
    var encoded: [UInt8] = []
    switch record {
    case .series(let series): WALEncoding.encodeSeries(series, into: &encoded)
    case .samples(let samples): WALEncoding.encodeSamples(samples, count: samples.count, into: &encoded)
    case .tombstones(let stones): WALEncoding.encodeTombstones(stones, into: &encoded)
    }
    var decoded: [WALRecord] = []
    let result = encoded.withUnsafeBytes { WALReader.records(in: $0) { decoded.append($0) } }
    guard result.corruption == nil, result.validBytes == encoded.count, decoded.count == 1 else {
        fatalError("re-encoded record does not read back: \(String(describing: result.corruption)), \(decoded.count) records")
    }
    guard same(record, decoded[0]) else {
        fatalError("re-encoded record reads back differently:\n  \(record)\n  \(decoded[0])")
    }
}

func same(_ a: WALRecord, _ b: WALRecord) -> Bool {
    switch (a, b) {
    case (.series(let x), .series(let y)):
        x.count == y.count && zip(x, y).allSatisfy { $0.ref == $1.ref && $0.labels == $1.labels }
    case (.samples(let x), .samples(let y)):
        x.count == y.count && zip(x, y).allSatisfy { $0.ref == $1.ref && $0.t == $1.t && $0.v.bitPattern == $1.v.bitPattern }
    case (.tombstones(let x), .tombstones(let y)):
        x == y
    default:
        false
    }
}

/// Walks the frames (`type u8, length u32 LE, crc32 u32 LE, payload`) and writes each one's
/// correct CRC, up to the first frame that does not fit.
func repairChecksums(_ b: UnsafeMutableRawBufferPointer) {
    var offset = 0
    while b.count - offset >= WALEncoding.headerSize {
        let length = Int(UInt32(littleEndian: UnsafeRawPointer(b.baseAddress! + offset + 1).loadUnaligned(as: UInt32.self)))
        let payloadStart = offset + WALEncoding.headerSize
        guard length <= b.count - payloadStart else { return }
        var crc = CRC32.update(0xFFFF_FFFF, UnsafeRawBufferPointer(rebasing: b[offset..<(offset + 1)]))
        crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: b[payloadStart..<(payloadStart + length)]))
        withUnsafeBytes(of: (crc ^ 0xFFFF_FFFF).littleEndian) { b.baseAddress!.advanced(by: offset + 5).copyMemory(from: $0.baseAddress!, byteCount: 4) }
        offset = payloadStart + length
    }
}

/// zlib's CRC-32 (IEEE, reflected), so the harness needs no zlib module of its own.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// Continues a CRC in its inverted running form (start with 0xFFFFFFFF, invert at the end).
    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = crc
        for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c
    }
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzWALRecord_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
