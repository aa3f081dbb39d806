import CZlib
import Storage

/// A decoded WAL record.
enum WALRecord {
    /// New series with their refs.
    case series([(ref: SeriesRef, labels: Labels)])
    /// Samples by series ref.
    case samples([WALSample])
    /// Deleted time ranges of series.
    case tombstones([Tombstone])
}

/// One sample in a samples record.
public struct WALSample: Sendable {
    public var ref: SeriesRef
    public var t: Int64
    public var v: Double
}

/// A deleted time range [minTime, maxTime] of one series.
public struct Tombstone: Sendable, Equatable {
    public var ref: SeriesRef
    public var minTime: Int64
    public var maxTime: Int64
}

/// Record framing: `type: u8, length: u32 LE, crc32: u32 LE (of type and payload), payload`.
enum WALRecordType: UInt8 {
    case series = 1
    case samples = 2
    case tombstones = 3
}

enum WALEncoding {
    static let headerSize = 9

    /// Appends a framed record whose payload `body` writes.
    static func frame(_ type: WALRecordType, into out: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        let start = out.count
        out.append(type.rawValue)
        out.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
        body(&out)
        let length = UInt32(out.count - start - headerSize)
        let crc = out.withUnsafeBufferPointer { b -> UInt32 in
            var c = crc32(0, b.baseAddress! + start, 1)
            c = crc32(c, b.baseAddress! + start + headerSize, UInt32(length))
            return UInt32(truncatingIfNeeded: c)
        }
        withUnsafeBytes(of: length.littleEndian) { out.replaceSubrange((start + 1)..<(start + 5), with: $0) }
        withUnsafeBytes(of: crc.littleEndian) { out.replaceSubrange((start + 5)..<(start + 9), with: $0) }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { b in
            Varint.appendUnsigned(UInt64(b.count), to: &out)
            out.append(contentsOf: b)
        }
    }

    static func encodeSeries(_ series: [(ref: SeriesRef, labels: Labels)], into out: inout [UInt8]) {
        frame(.series, into: &out) { o in
            Varint.appendUnsigned(UInt64(series.count), to: &o)
            for s in series {
                Varint.appendUnsigned(s.ref, to: &o)
                Varint.appendUnsigned(UInt64(s.labels.count), to: &o)
                for l in s.labels {
                    appendString(l.name, to: &o)
                    appendString(l.value, to: &o)
                }
            }
        }
    }

    /// Samples: count, then per sample the ref as a delta from the previous one, the time as a
    /// delta from the first sample's, and the value's 64 bits.
    static func encodeSamples<S: Sequence>(_ samples: S, count: Int, into out: inout [UInt8])
    where S.Element == WALSample {
        frame(.samples, into: &out) { o in
            o.reserveCapacity(o.count + count * 12)
            Varint.appendUnsigned(UInt64(count), to: &o)
            var first = true
            var baseT: Int64 = 0, prevRef: UInt64 = 0
            for s in samples {
                if first {
                    baseT = s.t
                    Varint.appendSigned(s.t, to: &o)
                    first = false
                }
                Varint.appendSigned(Int64(bitPattern: s.ref &- prevRef), to: &o)
                Varint.appendSigned(s.t &- baseT, to: &o)
                withUnsafeBytes(of: s.v.bitPattern.littleEndian) { o.append(contentsOf: $0) }
                prevRef = s.ref
            }
        }
    }

    static func encodeTombstones(_ stones: [Tombstone], into out: inout [UInt8]) {
        frame(.tombstones, into: &out) { o in
            Varint.appendUnsigned(UInt64(stones.count), to: &o)
            for s in stones {
                Varint.appendUnsigned(s.ref, to: &o)
                Varint.appendSigned(s.minTime, to: &o)
                Varint.appendSigned(s.maxTime, to: &o)
            }
        }
    }
}

/// Why a record could not be decoded.
struct WALDecodeError: Error {
    let reason: String
}

extension ByteCursor {
    mutating func readString() -> String? {
        guard let n = readUnsigned(), n <= UInt64(remaining) else { return nil }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(n))]), as: UTF8.self)
        offset += Int(n)
        return s
    }

    mutating func readUInt64LE() -> UInt64? {
        guard remaining >= 8 else { return nil }
        let v = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + offset).loadUnaligned(as: UInt64.self))
        offset += 8
        return v
    }
}

extension WALRecord {
    /// Decodes a payload whose frame was already checked.
    static func decode(type: UInt8, payload: UnsafeRawBufferPointer) throws(WALDecodeError) -> WALRecord {
        var c = ByteCursor(payload)
        guard let kind = WALRecordType(rawValue: type) else { throw WALDecodeError(reason: "unknown record type \(type)") }
        guard let count = c.readUnsigned(), count <= UInt64(payload.count) else {
            throw WALDecodeError(reason: "bad record count")
        }
        switch kind {
        case .series:
            var out: [(ref: SeriesRef, labels: Labels)] = []
            out.reserveCapacity(min(Int(count), payload.count / 2))     // an entry takes 2 bytes at least
            for _ in 0..<count {
                guard let ref = c.readUnsigned(), let n = c.readUnsigned(), n <= UInt64(c.remaining) else {
                    throw WALDecodeError(reason: "truncated series record")
                }
                var pairs: [Label] = []
                for _ in 0..<n {
                    guard let name = c.readString(), let value = c.readString() else {
                        throw WALDecodeError(reason: "truncated label")
                    }
                    pairs.append(Label(name, value))
                }
                out.append((ref, Labels(pairs)))
            }
            return .series(out)
        case .samples:
            var out: [WALSample] = []
            out.reserveCapacity(min(Int(count), payload.count / 10))    // a sample takes 10 bytes at least
            guard count == 0 || c.remaining > 0, let baseT = count == 0 ? 0 : c.readSigned() else {
                throw WALDecodeError(reason: "truncated samples record")
            }
            var ref: UInt64 = 0
            for _ in 0..<count {
                guard let dr = c.readSigned(), let dt = c.readSigned(), let bits = c.readUInt64LE() else {
                    throw WALDecodeError(reason: "truncated sample")
                }
                ref &+= UInt64(bitPattern: dr)
                out.append(WALSample(ref: ref, t: baseT &+ dt, v: Double(bitPattern: bits)))
            }
            return .samples(out)
        case .tombstones:
            var out: [Tombstone] = []
            for _ in 0..<count {
                guard let ref = c.readUnsigned(), let lo = c.readSigned(), let hi = c.readSigned() else {
                    throw WALDecodeError(reason: "truncated tombstone")
                }
                out.append(Tombstone(ref: ref, minTime: lo, maxTime: hi))
            }
            return .tombstones(out)
        }
    }
}
