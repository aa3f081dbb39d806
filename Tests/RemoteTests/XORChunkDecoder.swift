@testable import Remote

/// Reads Prometheus XOR chunks, written from chunkenc's reader semantics (not from the
/// encoder): the oracle of the encoder's tests and of the streamed remote read tests.
struct XORChunkDecoder {
    struct Corrupt: Error {}

    let bytes: [UInt8]
    var bit = 16  // after the 2-byte count

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func read(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for _ in 0..<n {
            guard bit / 8 < bytes.count else { throw Corrupt() }
            let b = (bytes[bit / 8] >> (7 - UInt8(bit % 8))) & 1
            v = v << 1 | UInt64(b)
            bit += 1
        }
        return v
    }

    mutating func uvarint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try read(8)
            v |= (b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    static func decode(_ bytes: [UInt8]) throws -> [(Int64, UInt64)] {
        guard bytes.count >= 2 else { throw Corrupt() }
        let count = Int(bytes[0]) << 8 | Int(bytes[1])
        var d = XORChunkDecoder(bytes)
        var out: [(Int64, UInt64)] = []
        var t: Int64 = 0, delta: Int64 = 0, v: UInt64 = 0
        var leading = 0, trailing = 0
        for i in 0..<count {
            if i == 0 {
                let z = try d.uvarint()
                t = Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1)
                v = try d.read(64)
                out.append((t, v))
                continue
            }
            if i == 1 {
                delta = Int64(bitPattern: try d.uvarint())
            } else {
                var prefix = 0
                while prefix < 4, try d.read(1) == 1 { prefix += 1 }
                let size = [0, 14, 17, 20, 64][prefix]
                var dod: Int64 = 0
                if size > 0 {
                    var raw = try d.read(size)
                    if size < 64 && raw > 1 << (size - 1) { raw = raw &- (1 << size) }
                    dod = Int64(bitPattern: raw)
                }
                delta &+= dod
            }
            t &+= delta
            if try d.read(1) == 1 {
                if try d.read(1) == 1 {
                    leading = Int(try d.read(5))
                    var significant = Int(try d.read(6))
                    if significant == 0 { significant = 64 }
                    trailing = 64 - leading - significant
                }
                let significant = 64 - leading - trailing
                v ^= try d.read(significant) << trailing
            }
            out.append((t, v))
        }
        return out
    }
}
