import Foundation
import Testing
@testable import Remote
import Scrape
import Storage
import TSDB

@Suite struct SnappyTests {
    @Test func roundTripsEmptyRandomAndRepetitiveBytes() throws {
        var rng = SystemRandomNumberGenerator()
        let inputs: [[UInt8]] = [
            [],
            [0],
            (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) },
            Array(repeating: 7, count: 1 << 20),
            Array("http_requests_total{job=\"api\"}".utf8) + Array(repeating: 0, count: 999),
        ]
        for input in inputs {
            let packed = Snappy.compress(input)
            #expect(try Snappy.decompress(packed, limit: input.count) == input)
        }
        #expect(Snappy.compress(Array(repeating: UInt8(7), count: 1 << 20)).count < 60_000)
    }

    @Test func refusesCorruptBlocks() {
        #expect(throws: Snappy.Failure.corrupt) { try Snappy.decompress([UInt8](), limit: 100) }
        #expect(throws: Snappy.Failure.corrupt) { try Snappy.decompress([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], limit: 100) }
        var packed = Snappy.compress(Array("a sample body that compresses, compresses, compresses".utf8))
        packed.removeLast(3)
        #expect(throws: Snappy.Failure.corrupt) { try Snappy.decompress(packed, limit: 1000) }
    }

    /// A header that announces 1 GiB is refused from the header: nothing is allocated.
    @Test func refusesABlockLargerThanTheLimitFromItsHeader() {
        let header: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x04]  // uvarint 1 << 30
        #expect(throws: Snappy.Failure.tooLarge(decoded: 1 << 30, limit: 1 << 20)) {
            try Snappy.decompress(header + [0x00], limit: 1 << 20)
        }
    }
}

@Suite struct XORChunkTests {
    func roundTrip(_ samples: [(Int64, Double)]) throws {
        var e = XORChunkEncoder()
        for (t, v) in samples { e.append(t, v) }
        let decoded = try XORChunkDecoder.decode(e.bytes)
        #expect(decoded.count == samples.count)
        for (d, s) in zip(decoded, samples) {
            #expect(d.0 == s.0)
            #expect(d.1 == s.1.bitPattern, "value \(s.1) at \(s.0)")
        }
        if let first = samples.first, let last = samples.last {
            #expect(e.minTime == first.0 && e.maxTime == last.0)
        }
    }

    @Test func roundTripsHostileValues() throws {
        let stale = Double(bitPattern: 0x7FF0_0000_0000_0002)
        try roundTrip([(0, .nan), (1, stale), (2, .infinity), (3, -.infinity), (4, -0.0), (5, 0.0),
                       (6, .greatestFiniteMagnitude), (7, .leastNonzeroMagnitude), (8, 1), (9, stale)])
    }

    @Test func roundTripsEveryDeltaOfDeltaClassAndHugeGaps() throws {
        let gaps: [Int64] = [15_000, 15_000, 15_001, 14_999, 1, 8_192, -8_191 + 16_383, 65_536, 500_000, 1 << 40, 1, 1 << 62]
        var t: Int64 = -(1 << 62)
        var samples: [(Int64, Double)] = [(t, 1)]
        for (i, g) in gaps.enumerated() {
            t &+= g
            samples.append((t, Double(i)))
        }
        try roundTrip(samples)
        try roundTrip([(Int64.min + 1, 1), (Int64.max - 1, 2)])
    }

    @Test func roundTripsRandomSeries() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var t = Int64.random(in: -1_000_000_000...2_000_000_000_000, using: &rng)
            var v = Double.random(in: -1e6...1e6, using: &rng)
            var samples: [(Int64, Double)] = []
            for _ in 0..<Int.random(in: 1...XORChunkEncoder.maxSamples, using: &rng) {
                samples.append((t, v))
                t += Int64.random(in: 0...120_000, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: break
                case 1: v += 1
                case 2: v = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
                default: v *= 1.0001
                }
            }
            try roundTrip(samples)
        }
    }

    /// Prometheus' chunk of (1000, 1.0), (2000, 2.0), (3000, 3.0), worked out by hand from the
    /// format: count 3; varint(1000) = d0 0f; 1.0 raw; uvarint(1000) = e8 07; 2.0 xor 1.0 =
    /// 0x7ff0… (leading 1, 11 significant bits) as `11 00001 001011 11111111111`; dod 0 as
    /// `0`; 3.0 xor 2.0 = 0x0008… has 51 trailing zeros, fewer than the window's 52, so a new
    /// window: `11 01100 000001 1`.
    @Test func matchesAHandWorkedPrometheusChunk() {
        var e = XORChunkEncoder()
        e.append(1000, 1); e.append(2000, 2); e.append(3000, 3)
        var bits = ""
        func put(_ v: UInt64, _ n: Int) { for i in stride(from: n - 1, through: 0, by: -1) { bits += (v >> UInt64(i)) & 1 == 1 ? "1" : "0" } }
        put(0xD0, 8); put(0x0F, 8); put(Double(1).bitPattern, 64); put(0xE8, 8); put(0x07, 8)
        put(0b11, 2); put(1, 5); put(11, 6); put(0b111_1111_1111, 11)
        put(0, 1); put(0b11, 2); put(12, 5); put(1, 6); put(1, 1)
        while bits.count % 8 != 0 { bits += "0" }
        var expected: [UInt8] = [0, 3]
        var i = bits.startIndex
        while i < bits.endIndex {
            let j = bits.index(i, offsetBy: 8)
            expected.append(UInt8(bits[i..<j], radix: 2)!)
            i = j
        }
        #expect(e.bytes == expected)
    }
}

@Suite struct FrameTests {
    /// The standard CRC-32C check value.
    @Test func checksumIsCastagnoli() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }
}

@Suite struct ShardCalculationTests {
    /// 1,000 samples/s coming in, 500/s going out at 2 ms each on one shard, 60 s behind: the
    /// calculation asks for more shards; caught up and idle, it keeps the count.
    @Test func scalesWithTheBacklog() {
        var config = RemoteWriteConfig.QueueConfig()
        config.maxShards = 50
        var rates = ShardRates()
        rates.reset(IngestStats(appended: 0, newest: 0), sent: 0)
        rates.lastTick = .now - .seconds(10)
        let d = rates.desiredShards(ingest: IngestStats(appended: 10_000, newest: 100_000), sent: 5_000,
                                    sendNanoseconds: 5_000 * 2_000_000, highestSent: 40_000, current: 1, config: config)
        #expect(d.shards > 1 && d.shards <= 50, "\(d)")
        var idle = ShardRates()
        idle.reset(IngestStats(appended: 0, newest: 0), sent: 0)
        idle.lastTick = .now - .seconds(10)
        let same = idle.desiredShards(ingest: IngestStats(appended: 0, newest: 0), sent: 0, sendNanoseconds: 0, highestSent: 0,
                                      current: 3, config: config)
        #expect(same.shards == 3)
    }
}

/// The queue's hand-written request encoding decodes, with swift-protobuf, to the series and
/// samples that went in: labels, per-series WAL order, and every value bit for bit.
@Suite struct BatchEncodingTests {
    @Test func decodesToTheSamplesThatWentIn() throws {
        let stale = Double(bitPattern: 0x7FF0_0000_0000_0002)
        let series: [(SeriesRef, Labels)] = [
            (7, Labels(["__name__": "up", "job": "a", "instance": "h:1"])),
            (9, Labels(["__name__": "long", "v": String(repeating: "é", count: 300)])),
            (1 << 40, Labels(["__name__": "x"])),
        ]
        let samples: [(Int, Int64, Double)] = [
            (0, 1_700_000_000_000, 1), (1, 0, -0.0), (0, 1_700_000_015_000, .nan), (2, -1, .infinity),
            (1, Int64.max, -.infinity), (0, Int64.min, stale), (2, 300, 0), (1, 5, .leastNonzeroMagnitude),
        ]
        var batch = Batch()
        var owners: [Int: Int32] = [:]
        for (i, (s, t, v)) in samples.enumerated() {
            let owner = owners[s] ?? batch.addSeries(WireSeries(series[s].1))
            owners[s] = owner
            batch.add(owner: owner, t, v, at: WALPosition(segment: 3, offset: 100, sample: i))
        }
        #expect(batch.count == samples.count && batch.end == WALPosition(segment: 3, offset: 100, sample: samples.count))
        let request = try Prometheus_WriteRequest(serializedBytes: try Snappy.decompress(batch.encoded(), limit: 1 << 20))
        #expect(request.timeseries.count == 3)
        for (k, ts) in request.timeseries.enumerated() {
            #expect(ts.labels.map { Label($0.name, $0.value) } == Array(series[k].1))
            let expected = samples.filter { $0.0 == k }
            #expect(ts.samples.map(\.timestamp) == expected.map(\.1))
            #expect(ts.samples.map(\.value.bitPattern) == expected.map(\.2.bitPattern))
        }
        #expect(Batch().protobuf().isEmpty)
    }

    /// The usual batch (every series once, taking the path without the sort) decodes the same.
    @Test func everySeriesOnceDecodes() throws {
        var batch = Batch(capacity: 300)
        for k in 0..<300 {
            let owner = batch.addSeries(WireSeries(Labels(["__name__": "m", "k": String(repeating: "x", count: k + 1)])))
            batch.add(owner: owner, Int64(k) * 1_000_000_007 - 5, Double(k) / 3, at: WALPosition(segment: 0, offset: 8, sample: k))
        }
        let request = try Prometheus_WriteRequest(serializedBytes: batch.protobuf())
        #expect(request.timeseries.count == 300)
        for (k, ts) in request.timeseries.enumerated() {
            #expect(ts.labels.map(\.value) == ["m", String(repeating: "x", count: k + 1)])
            #expect(ts.samples.map(\.timestamp) == [Int64(k) * 1_000_000_007 - 5])
            #expect(ts.samples.map(\.value) == [Double(k) / 3])
        }
    }
}

/// The reader's ref → slot table answers as a dictionary does, through growth, for refs of
/// the head's shape (sequence << stripe bits | stripe) and for extreme ones.
@Suite struct RefSlotsTests {
    @Test func agreesWithADictionary() {
        var table = RefSlots(), model: [SeriesRef: Int32] = [:]
        var rng = SystemRandomNumberGenerator()
        var refs: [SeriesRef] = [0, 1, .max, .max - 1, 1 << 63]
        for seq in 0..<50_000 { refs.append(SeriesRef(seq) << 14 | SeriesRef.random(in: 0..<(1 << 14), using: &rng)) }
        for ref in refs { model[ref] = model[ref] ?? Int32(model.count) }
        for ref in refs { #expect(table.add(ref) == model[ref]) }
        for ref in refs.shuffled().prefix(1000) { #expect(table.add(ref) == model[ref]) }   // added again: same slot
        #expect(table.count == model.count)
        for (ref, slot) in model { #expect(table[ref] == slot) }
        for _ in 0..<10_000 {
            let ref = SeriesRef.random(in: 0...SeriesRef.max, using: &rng)
            #expect(table[ref] == model[ref])
        }
        // The guess (previous slot + 1) is only taken when it is the ref's slot.
        for _ in 0..<10_000 {
            let ref = refs.randomElement(using: &rng) ?? 0
            let previous = Int.random(in: -1...model.count, using: &rng)
            #expect(table.slot(of: ref, after: previous) == model[ref].map(Int.init))
        }
        let unknown: SeriesRef = 60_000 << 14 | 1            // past every sequence added
        #expect(model[unknown] == nil && table.slot(of: unknown, after: 5) == nil)
    }
}

/// The reader's labels by slot: replaced by shorter (in place) and longer labels, dropped,
/// and packed once most bytes are unused, every slot keeps its current labels.
@Suite struct WireLabelStoreTests {
    @Test func keepsEachSlotsCurrentLabels() {
        var store = WireLabelStore()
        var model: [WireSeries?] = []
        func wire(_ n: Int) -> WireSeries { WireSeries(Labels(["__name__": "m", "v": String(repeating: "z", count: n)])) }
        for slot in 0..<2_000 {
            let w = slot % 7 == 0 ? nil : wire(slot % 50)
            store.set(slot, w)
            model.append(w)
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<40_000 {                              // enough replacing to force packing
            let slot = Int.random(in: 0..<2_000, using: &rng)
            let w = Int.random(in: 0..<10, using: &rng) == 0 ? nil : wire(Int.random(in: 0..<120, using: &rng))
            store.set(slot, w)
            model[slot] = w
        }
        #expect(store.bytes.count < 2_000 * 200 * 3)
        for (slot, w) in model.enumerated() {
            #expect(store.range(slot).map { Array(store.bytes[$0]) } == w?.labels)
        }
    }
}
