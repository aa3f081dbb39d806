import Foundation
import Storage

/// A block's `meta.json`: identity, time range `[minTime, maxTime)`, counts and lineage.
public struct BlockMeta: Codable, Sendable, Equatable {
    public struct Stats: Codable, Sendable, Equatable {
        public var numSeries: Int
        public var numSamples: Int
        public var numChunks: Int
    }

    public struct Compaction: Codable, Sendable, Equatable {
        /// 1 for a block cut from the head, +1 for each merge.
        public var level: Int
        /// ULIDs of the level-1 blocks whose data this block holds.
        public var sources: [String]
        /// ULIDs of the blocks merged into this one (deleted once it is in place).
        public var parents: [String]
    }

    public var ulid: String
    public var minTime: Int64
    /// Exclusive, as in Prometheus.
    public var maxTime: Int64
    public var stats: Stats
    public var compaction: Compaction
    public var version = 1

    static func read(_ path: String) throws -> BlockMeta {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(BlockMeta.self, from: data)
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array((try? encoder.encode(self)) ?? Data())
    }
}

/// Universally unique lexicographically sortable identifiers for blocks: 48 bits of
/// milliseconds and 80 random bits in Crockford's base32.
enum ULID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    static func make(milliseconds: UInt64 = UInt64(Date().timeIntervalSince1970 * 1000)) -> String {
        var rng = SystemRandomNumberGenerator()
        let high = (milliseconds << 16) | UInt64(rng.next() as UInt16)  // 48 time + 16 random bits
        let low = rng.next() as UInt64                                   // 64 random bits
        var out = [UInt8](repeating: 0, count: 26)
        // 128 bits = 2 bits of padding + 26 * 5 bits.
        for i in 0..<26 {
            let bit = 125 - i * 5   // position of this digit's lowest bit, counting from 0 at the bottom
            var v: UInt64
            if bit >= 64 {
                v = high >> UInt64(bit - 64)
            } else if bit + 5 <= 64 {
                v = low >> UInt64(bit)
            } else {
                v = (low >> UInt64(bit)) | (high << UInt64(64 - bit))
            }
            out[i] = alphabet[Int(v & 31)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isValid(_ s: String) -> Bool {
        s.utf8.count == 26 && s.utf8.allSatisfy { alphabet.contains($0) }
    }
}
