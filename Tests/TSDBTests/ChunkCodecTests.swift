import Testing
@testable import TSDB
import Workloads

/// Generators of timestamp runs and value runs, hostile and scrape-like.
enum SampleGen {
    static func timestamps(_ n: Int, mode: Int, rng: inout SplitMix64) -> [Int64] {
        var t: Int64
        switch mode {
        case 0: t = 1_700_000_000_000
        case 1: t = -Int64(rng.next() % 1_000_000_000_000)
        case 2: t = Int64.max - Int64(n) * 1_000_000_000 - 1
        case 3: t = Int64.min + 1
        default: t = Int64(bitPattern: rng.next() >> 2)
        }
        var out: [Int64] = [t]
        for _ in 1..<max(n, 1) {
            let step: Int64
            switch rng.next() % 10 {
            case 0: step = 15_000 * Int64(2 + rng.next() % 5)           // missed scrapes
            case 1: step = 86_400_000 * Int64(1 + rng.next() % 30)      // gaps of days
            case 2: step = 1                                           // tightest spacing
            case 3 where mode == 3: step = 1 << 40                     // huge gaps
            default: step = 15_000 + Int64(rng.next() % 101) - 50       // jitter
            }
            t = t &+ step
            guard t > out[out.count - 1] else { break }                // stay strictly increasing
            out.append(t)
        }
        return out
    }

    static func values(_ n: Int, mode: Int, rng: inout SplitMix64) -> [Double] {
        var out: [Double] = []
        var counter = Double(rng.next() % 1000)
        var gauge = Double(rng.next() % 100_000) / 1000
        for _ in 0..<n {
            switch mode {
            case 0: out.append(hostileValues[Int(rng.next() % UInt64(hostileValues.count))])
            case 1: counter += Double(rng.next() % 5); out.append(counter)
            case 2:
                gauge += Double(Int(rng.next() % 1001) - 500) / 1000
                out.append((gauge * 1000).rounded() / 1000)
            case 3: out.append(42.5)
            case 4: out.append(Double(bitPattern: rng.next()))
            default: out.append(rng.next() % 7 == 0 ? staleNaN : counter)
            }
        }
        return out
    }
}

@Suite struct ChunkCodecTests {
    func assertRoundTrip(_ ts: [Int64], _ vs: [Double], only: ChunkEncoding? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let chunk = ChunkEncoder.encode(timestamps: ts, values: vs, only: only)
        let got = decodeAll(chunk)
        #expect(got.error == nil, sourceLocation: sourceLocation)
        #expect(got.ts == ts, sourceLocation: sourceLocation)
        #expect(got.vs == vs.map(\.bitPattern), sourceLocation: sourceLocation)
    }

    static let encodings: [ChunkEncoding?] = [nil] + TimestampEncoding.allCases.flatMap { t in
        [ValueEncoding.xor].map { ChunkEncoding(timestamps: t, values: $0) }
    }

    @Test func hostileValuesRoundTripBitExactly() {
        let ts = (0..<Int64(hostileValues.count)).map { 1_700_000_000_000 + $0 * 15_000 }
        for enc in Self.encodings { assertRoundTrip(ts, hostileValues, only: enc) }
        for v in hostileValues {
            assertRoundTrip([5, 10, 20], [v, v, v])              // constant column
            assertRoundTrip([5], [v])                            // a single sample
        }
    }

    @Test func staleMarkerSurvivesEveryEncoding() {
        let ts: [Int64] = [0, 15_000, 30_000, 45_000]
        let vs = [1, staleNaN, 2, staleNaN]
        for enc in Self.encodings { assertRoundTrip(ts, vs, only: enc) }
        assertRoundTrip(ts, [staleNaN, staleNaN, staleNaN, staleNaN])
    }

    @Test func extremeTimestamps() {
        assertRoundTrip([Int64.min, -1, 0, Int64.max], [1, 2, 3, 4])
        assertRoundTrip([Int64.max - 2, Int64.max - 1, Int64.max], [0, 0, 0])
        assertRoundTrip([-86_400_000 * 365, -86_400_000, -1], [1.5, 2.5, 3.5])
        assertRoundTrip([0, 1, 86_400_000 * 30, 86_400_000 * 30 + 15_000], [0.001, 0.002, 0.003, 0.004])
        for enc in Self.encodings {
            assertRoundTrip([Int64.min, Int64.min + 1, Int64.max], [1, 2, 3], only: enc)
        }
    }

    @Test func decimalEncodingIsChosenForDecimalsAndIsExact() throws {
        let ts = (0..<120).map { Int64($0) * 15_000 }
        let vs = (0..<120).map { Double(1000 + $0 * 7 % 13) / 1000 }
        let chunk = ChunkEncoder.encode(timestamps: ts, values: vs)
        #expect(try chunk.header().encoding == ChunkEncoding(timestamps: .packedDelta, values: .decimal))
        assertRoundTrip(ts, vs)
        // -0.0 and integers beyond 2^53 cannot be decimals; the encoder must fall back.
        assertRoundTrip(ts, vs.enumerated().map { $0.offset == 60 ? -0.0 : $0.element })
        assertRoundTrip(ts, vs.enumerated().map { $0.offset == 60 ? 9_007_199_254_740_994 : $0.element })
    }

    @Test func seededPropertyRoundTrip() {
        var rng = SplitMix64(seed: 0x5EED_C0DEC)
        for _ in 0..<4000 {
            let n = Int(1 + rng.next() % 300)
            let ts = SampleGen.timestamps(n, mode: Int(rng.next() % 5), rng: &rng)
            let vs = SampleGen.values(ts.count, mode: Int(rng.next() % 6), rng: &rng)
            let enc = Self.encodings[Int(rng.next() % UInt64(Self.encodings.count))]
            assertRoundTrip(ts, vs, only: enc)

            var appender = ChunkAppender()
            for (t, v) in zip(ts, vs) { appender.append(t, v) }
            for chunk in [appender.snapshot(), appender.seal()] {
                let got = decodeAll(chunk)
                #expect(got.error == nil && got.ts == ts && got.vs == vs.map(\.bitPattern))
            }
        }
    }

    @Test func seekMatchesLinearSearch() {
        var rng = SplitMix64(seed: 77)
        for _ in 0..<1000 {
            let ts = SampleGen.timestamps(Int(1 + rng.next() % 200), mode: Int(rng.next() % 2), rng: &rng)
            let vs = SampleGen.values(ts.count, mode: Int(rng.next() % 6), rng: &rng)
            let chunk = ChunkEncoder.encode(timestamps: ts, values: vs)
            let span = UInt64(ts[ts.count - 1] - ts[0] + 40)
            let target = ts[0] - 20 + Int64(rng.next() % span)
            var it = chunk.makeIterator()
            if rng.next() % 2 == 0 { _ = it.next() }             // seek from mid-way too
            let found = it.seek(to: target)
            if let i = ts.firstIndex(where: { $0 >= target }) {
                #expect(found)
                #expect(it.at().t == ts[i] && it.at().v.bitPattern == vs[i].bitPattern)
                // next() after seek continues from there
                if i + 1 < ts.count { #expect(it.next() && it.at().t == ts[i + 1]) }
            } else {
                #expect(!found)
            }
            #expect(it.error == nil)
        }
    }

    /// The bulk drain of a chunk series gives exactly what `next()` does, for any bounds,
    /// after any number of `next()` calls, on every encoding, and stops on damaged chunks.
    @Test func drainMatchesNext() {
        var rng = SplitMix64(seed: 4242)
        for round in 0..<2000 {
            var chunks: [ChunkMeta] = []
            var t0: Int64 = 1_700_000_000_000
            for _ in 0..<(1 + rng.next() % 4) {
                var ts = SampleGen.timestamps(Int(1 + rng.next() % 200), mode: 0, rng: &rng)
                let shift = t0 - ts[0]
                ts = ts.map { $0 + shift }
                t0 = ts[ts.count - 1] + 1 + Int64(rng.next() % 100_000)
                let vs = SampleGen.values(ts.count, mode: Int(rng.next() % 6), rng: &rng)
                let enc = Self.encodings[Int(rng.next() % UInt64(Self.encodings.count))]
                var bytes = Array(ChunkEncoder.encode(timestamps: ts, values: vs, only: enc).bytes)
                if round % 10 == 9 { bytes[Int(rng.next() % UInt64(bytes.count))] ^= 0x5A }
                chunks.append(ChunkMeta(minTime: ts[0], maxTime: ts[ts.count - 1], chunk: Chunk(copying: bytes)))
            }
            let first = chunks[0].minTime, last = chunks[chunks.count - 1].maxTime
            let mint = first - 1000 + Int64(rng.next() % UInt64(last - first + 2000))
            let maxt = mint + Int64(rng.next() % UInt64(last - first + 2000))
            let series = ChunkSeries(labels: Labels(["__name__": "x"]), chunks: chunks, mint: mint, maxt: maxt)
            let skip = Int(rng.next() % 5)
            var a = series.iterator(), b = series.iterator()
            var expectedT: [Int64] = [], expectedV: [UInt64] = []
            var gotT: [Int64] = [], gotV: [Double] = []
            for _ in 0..<skip where a.next() && b.next() {
                expectedT.append(a.at().t); expectedV.append(a.at().v.bitPattern)
                gotT.append(b.at().t); gotV.append(b.at().v)
            }
            while a.next() { expectedT.append(a.at().t); expectedV.append(a.at().v.bitPattern) }
            b.drain(timestamps: &gotT, values: &gotV)
            #expect(gotT == expectedT, "round \(round)")
            #expect(gotV.map(\.bitPattern) == expectedV, "round \(round)")
            #expect((a.error == nil) == (b.error == nil), "round \(round)")
        }
    }

    @Test func truncatedChunksReportErrors() {
        var rng = SplitMix64(seed: 9)
        for mode in 0..<6 {
            let ts = SampleGen.timestamps(120, mode: 0, rng: &rng)
            let vs = SampleGen.values(ts.count, mode: mode, rng: &rng)
            let full = Array(ChunkEncoder.encode(timestamps: ts, values: vs).bytes)
            for length in 0..<full.count {
                let got = decodeAll(Chunk(copying: Array(full[0..<length])))
                #expect(got.error != nil, "length \(length) of \(full.count), values mode \(mode)")
            }
        }
    }

    @Test func corruptedChunksNeverTrap() {
        var rng = SplitMix64(seed: 1234)
        for round in 0..<3000 {
            let ts = SampleGen.timestamps(Int(1 + rng.next() % 150), mode: Int(rng.next() % 5), rng: &rng)
            let vs = SampleGen.values(ts.count, mode: Int(rng.next() % 6), rng: &rng)
            var bytes = Array(ChunkEncoder.encode(timestamps: ts, values: vs).bytes)
            for _ in 0..<(1 + rng.next() % 4) {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] ^= UInt8(truncatingIfNeeded: 1 | rng.next())
            }
            if round % 3 == 0 { bytes.append(contentsOf: (0..<rng.next() % 9).map { _ in UInt8.random(in: 0...255, using: &rng) }) }
            var it = Chunk(copying: bytes).makeIterator()
            var n = 0
            while it.next() { n += 1; _ = it.seek(to: it.at().t &+ Int64(rng.next() % 30_000)) }
            #expect(n <= max(ts.count, 1 << 32))
        }
    }

    /// A header may not claim more samples than a writer cuts: readers size buffers by it.
    @Test func headersClaimingHugeCountsAreDamage() throws {
        let ts = (0..<120).map { Int64($0) * 15_000 }
        let chunk = ChunkEncoder.encode(timestamps: ts, values: ts.map { _ in 1.0 })
        let h = try chunk.header()
        let bytes = Array(chunk.bytes)
        for count in [ChunkHeader.maxSamples + 1, 1 << 32, Int(Int64.max)] {
            var forged: [UInt8] = []
            ChunkHeader.write(encoding: h.encoding, count: count, minTime: h.minTime, maxTime: h.maxTime,
                              timestampBytes: h.timestampColumn.count, to: &forged)
            forged += bytes[h.timestampColumn.lowerBound...]
            #expect(throws: ChunkError.self) { try Chunk(copying: forged).header() }
            #expect(decodeAll(Chunk(copying: forged)).error != nil)
        }
        var options = HeadOptions()
        options.chunkSize = 1 << 40
        #expect(options.chunkSize == ChunkHeader.maxSamples)
    }

    /// A chunk whose timestamps live in another chunk reads them from there, and its
    /// standalone copy reads the same; a shared column that is itself a reference is damage to
    /// both (found by FuzzChunk: the iterator read one sample from it, the copy none).
    @Test func sharedTimestampColumnsResolveOnceOrNotAtAll() throws {
        let ts: [Int64] = [1_000, 16_000, 31_000], vs: [Double] = [1, staleNaN, -0.0]
        let base = ChunkEncoder.encode(timestamps: ts, values: vs, only: nil)
        let h = try base.header()
        var out: [UInt8] = []
        ChunkHeader.write(encoding: ChunkEncoding(timestamps: .shared, values: h.encoding.values), count: h.count,
                          minTime: h.minTime, maxTime: h.maxTime, timestampBytes: 0, to: &out)
        out.append(contentsOf: base.bytes[h.valueColumn])
        let owner = Chunk(copying: out)
        let column = UnsafeRawBufferPointer(rebasing: base.bytes[h.timestampColumn])
        try withExtendedLifetime(base) {
            let shared = Chunk(bytes: owner.bytes, owner: try #require(owner.owner),
                               sharedTimestamps: (h.encoding.timestamps, column))
            let read = decodeAll(shared)
            #expect(read.ts == ts && read.vs == vs.map(\.bitPattern) && read.error == nil)
            let copy = decodeAll(try shared.standalone())
            #expect(copy.ts == ts && copy.vs == read.vs && copy.error == nil)

            let chained = Chunk(bytes: owner.bytes, owner: try #require(owner.owner), sharedTimestamps: (.shared, column))
            let damaged = decodeAll(chained)
            #expect(damaged.ts.isEmpty && damaged.error != nil)
            #expect(throws: ChunkError.self) { try chained.standalone() }
        }
    }
}
