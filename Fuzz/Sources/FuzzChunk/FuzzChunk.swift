// Fuzzes chunk decoding and encoding (Sources/TSDB/Chunks).
//
// The first byte picks the mode (`byte % 3`); the rest is the mode's input:
// 0. chunk bytes: header, iteration with next(), seek and drain. A damaged chunk must stop
//    with an error, never trap, and drain must give exactly the samples next() gives.
// 1. a chunk whose timestamp column is shared: `encoding byte, uvarint length, column,
//    chunk bytes`; as mode 0, and its standalone() copy must read the same samples.
// 2. samples: 16 bytes each (Int64 LE timestamp, UInt64 LE value bits), sorted by time with
//    duplicate times dropped; encoded with ChunkEncoder (`byte / 3` forces encodings) and
//    with ChunkAppender (snapshot and seal), each must decode to exactly those samples.
import CFuzzMain
@testable import TSDB

/// Most samples read from one chunk: a tiny damaged chunk can claim 2^32 samples. A real chunk
/// holds a few hundred; past that every sample takes the same paths, and each is walked several
/// times per input (next, drain, seeks), so the cap sets the speed of the whole run.
let maxSamples = 1 << 12

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 3 {
    case 0: decode(Chunk(copying: rest))
    case 1: decodeShared(rest)
    default: roundTrip(rest, selector: Int(data[0] / 3))
    }
    return 0
}

// MARK: Decoding arbitrary bytes

struct Read {
    var samples: [(t: Int64, v: UInt64)] = []
    var error: ChunkError?
    var complete = true
}

/// Reads a chunk with next(), up to `maxSamples`.
func readAll(_ chunk: Chunk) -> Read {
    var out = Read()
    var it = chunk.makeIterator()
    while it.next() {
        let (t, v) = it.at()
        out.samples.append((t, v.bitPattern))
        if out.samples.count >= maxSamples { out.complete = false; break }
    }
    out.error = it.error
    return out
}

func decode(_ chunk: Chunk) {
    guard let header = try? chunk.header() else {
        var it = chunk.makeIterator()
        precondition(!it.next() && it.error != nil, "a chunk without a header iterates")
        return
    }
    precondition(header.timestampColumn.upperBound <= chunk.byteCount && header.valueColumn.upperBound == chunk.byteCount,
                 "header columns \(header.timestampColumn) \(header.valueColumn) outside \(chunk.byteCount) bytes")
    let read = readAll(chunk)
    precondition(read.samples.count <= header.count, "\(read.samples.count) samples from a chunk of \(header.count)")
    if read.complete && read.error == nil {
        precondition(read.samples.count == header.count, "\(read.samples.count) of \(header.count) samples without an error")
        if let last = read.samples.last { precondition(last.t == header.maxTime, "last sample \(last.t), maxTime \(header.maxTime)") }
    }
    guard header.count <= maxSamples else {
        // A few bytes can validly encode 2^32 regular samples (width-0 columns), which any
        // walk decodes one by one: only a seek to the first sample here.
        var it = chunk.makeIterator()
        _ = it.seek(to: header.minTime)
        return
    }

    // drain() from the first sample gives what next() gave.
    var it = chunk.makeIterator()
    if it.next() {
        let room = it.remaining
        var ts = [Int64](repeating: 0, count: room), vs = [Double](repeating: 0, count: room)
        let (written, pastEnd) = ts.withUnsafeMutableBufferPointer { t in
            vs.withUnsafeMutableBufferPointer { v in it.drain(upTo: .max, into: t.baseAddress!, v.baseAddress!) }
        }
        precondition(!pastEnd, "drain to Int64.max ended past the end")
        guard written == read.samples.count,
              (0..<written).allSatisfy({ ts[$0] == read.samples[$0].t && vs[$0].bitPattern == read.samples[$0].v }),
              (it.error == nil) == (read.error == nil) else {
            fatalError("drain gave \(written) samples (error \(String(describing: it.error))), next() \(read.samples.count) (error \(String(describing: read.error)))")
        }
    }

    // drainValues (the shared-timestamps read path) writes no more than `count` values.
    it = chunk.makeIterator()
    if it.next() {
        var vs = [Double](repeating: 0, count: header.count)
        let n = vs.withUnsafeMutableBufferPointer { it.drainValues(into: $0.baseAddress!) }
        precondition(n <= header.count)
    }

    // Seeks to the times seen, and around them, must not trap.
    for (i, s) in read.samples.prefix(16).enumerated() {
        var it = chunk.makeIterator()
        _ = it.seek(to: i % 2 == 0 ? s.t : s.t &+ 1)
        _ = it.at()
        _ = it.next()
    }
}

func decodeShared(_ input: [UInt8]) {
    guard let encodingByte = input.first,
          let encoding = TimestampEncoding(rawValue: encodingByte & 0x03) else { return }
    input.withUnsafeBytes { raw in
        var c = ByteCursor(UnsafeRawBufferPointer(rebasing: raw[1...]))
        guard let n = c.readUnsigned(), n <= UInt64(c.remaining) else { return }
        let columnStart = 1 + c.offset, columnEnd = columnStart + Int(n)
        // Both parts in buffers of their exact size, so ASan sees any read past them.
        let column = Chunk(copying: Array(input[columnStart..<columnEnd]))
        let owner = Chunk(copying: Array(input[columnEnd...]))
        let chunk = Chunk(bytes: owner.bytes, owner: owner.owner!, sharedTimestamps: (encoding, column.bytes))
        withExtendedLifetime(column) {
            decode(chunk)
            guard let standalone = try? chunk.standalone() else { return }
            let a = readAll(chunk), b = readAll(standalone)
            guard a.samples.count == b.samples.count,
                  zip(a.samples, b.samples).allSatisfy({ $0.t == $1.t && $0.v == $1.v }),
                  (a.error == nil) == (b.error == nil) else {
                fatalError("standalone copy reads \(b.samples.count) samples (error \(String(describing: b.error))), the shared chunk \(a.samples.count) (error \(String(describing: a.error)))")
            }
        }
    }
}

// MARK: Round trip of samples

func roundTrip(_ input: [UInt8], selector: Int) {
    var pairs: [(t: Int64, v: UInt64)] = []
    input.withUnsafeBytes { raw in
        var offset = 0
        while offset + 16 <= raw.count {
            pairs.append((Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)),
                          UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))))
            offset += 16
        }
    }
    guard !pairs.isEmpty else { return }
    // Strictly increasing times: stable sort, first value of each time kept.
    let sorted = pairs.enumerated().sorted { ($0.element.t, $0.offset) < ($1.element.t, $1.offset) }.map(\.element)
    var samples: [(t: Int64, v: UInt64)] = []
    for s in sorted where samples.last?.t != s.t { samples.append(s) }
    let ts = samples.map(\.t), vs = samples.map { Double(bitPattern: $0.v) }

    var only: ChunkEncoding?
    if selector > 0 {
        let k = (selector - 1) % 9
        only = ChunkEncoding(timestamps: TimestampEncoding.allCases[k % 3], values: [.xor, .constant, .decimal][k / 3])
    }
    check(ChunkEncoder.encode(timestamps: ts, values: vs, only: only), samples, "ChunkEncoder (only: \(String(describing: only)))")

    var appender = ChunkAppender()
    for (t, v) in zip(ts, vs) { appender.append(t, v) }
    check(appender.snapshot(), samples, "ChunkAppender.snapshot")
    check(appender.seal(), samples, "ChunkAppender.seal")
}

/// `chunk` must hold exactly `samples`, read every way the iterator offers.
func check(_ chunk: Chunk, _ samples: [(t: Int64, v: UInt64)], _ what: String) {
    func fail(_ m: String) -> Never {
        fatalError("\(what): \(m); \(samples.count) samples, first \(samples.prefix(4)), chunk \(chunk.bytes.prefix(48).map { $0 })")
    }
    guard let h = try? chunk.header() else { fail("no header") }
    guard h.count == samples.count, h.minTime == samples.first!.t, h.maxTime == samples.last!.t else {
        fail("header \(h.count) samples \(h.minTime)...\(h.maxTime)")
    }
    let read = readAll(chunk)
    if let e = read.error { fail("error \(e) after \(read.samples.count) samples") }
    guard read.samples.count == samples.count else { fail("read \(read.samples.count) samples") }
    for (i, (a, b)) in zip(read.samples, samples).enumerated() where a.t != b.t || a.v != b.v {
        fail("sample \(i) reads (\(a.t), \(String(a.v, radix: 16))), written (\(b.t), \(String(b.v, radix: 16)))")
    }

    // drain, whole and up to a time inside the chunk.
    for maxt in [Int64.max, samples[samples.count / 2].t] {
        var it = chunk.makeIterator()
        guard it.next() else { fail("no first sample") }
        let room = it.remaining
        var dt = [Int64](repeating: 0, count: room), dv = [Double](repeating: 0, count: room)
        let (written, pastEnd) = dt.withUnsafeMutableBufferPointer { t in
            dv.withUnsafeMutableBufferPointer { v in it.drain(upTo: maxt, into: t.baseAddress!, v.baseAddress!) }
        }
        let expected = samples.prefix(while: { $0.t <= maxt })
        guard written == expected.count, pastEnd == (expected.count < samples.count),
              zip(expected, zip(dt, dv)).allSatisfy({ $0.t == $1.0 && $0.v == $1.1.bitPattern }) else {
            fail("drain(upTo: \(maxt)) wrote \(written) (pastEnd \(pastEnd)), expected \(expected.count)")
        }
    }

    // drainValues from the first sample.
    var it = chunk.makeIterator()
    guard it.next() else { fail("no first sample") }
    var dv = [Double](repeating: 0, count: samples.count)
    let n = dv.withUnsafeMutableBufferPointer { it.drainValues(into: $0.baseAddress!) }
    guard n == samples.count, zip(dv, samples).allSatisfy({ $0.bitPattern == $1.v }) else { fail("drainValues wrote \(n)") }

    // seek to a few times, and just before and after each (every seek walks from the start:
    // these took half of each execution at eight).
    let step = max(1, samples.count / 4)
    for i in stride(from: 0, to: samples.count, by: step) {
        for target in [samples[i].t, samples[i].t &- 1, samples[i].t &+ 1] {
            if target == samples[i].t &- 1 && target > samples[i].t { continue }   // wrapped
            if target == samples[i].t &+ 1 && target < samples[i].t { continue }
            var it = chunk.makeIterator()
            let found = it.seek(to: target)
            let expected = samples.firstIndex { $0.t >= target }
            guard found == (expected != nil) else { fail("seek(to: \(target)) gave \(found)") }
            if let e = expected {
                let (t, v) = it.at()
                guard t == samples[e].t, v.bitPattern == samples[e].v else { fail("seek(to: \(target)) is at \(t)") }
                // and iteration goes on from there
                if e + 1 < samples.count {
                    guard it.next(), it.at().t == samples[e + 1].t else { fail("next() after seek(to: \(target))") }
                }
            }
        }
    }
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzChunk_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
