@testable import Exposition
@testable import Scrape
import TSDB
import Testing

@Suite struct SampleLineTests {
    @Test(arguments: [
        ("up 1", "up", 1.0, nil as Int64?),
        ("up{job=\"a\"} 2.5 1000", "up{job=\"a\"}", 2.5, 1000),
        ("  up {job=\"a b\",x=\"\\\"q\\\"\"}  -Inf  -5", "up{job=\"a b\", x=\"\\\"q\\\"\"}", -.infinity, -5),
        ("{__name__=\"m\",l=\"}\"} NaN", "m{l=\"}\"}", .nan, nil),
        ("rate:5m{a=\"1\"} +Inf", "rate:5m{a=\"1\"}", .infinity, nil),
    ] as [(String, String, Double, Int64?)])
    func parsesSampleLines(_ line: String, _ series: String, _ value: Double, _ t: Int64?) throws {
        let s = try #require(try SampleLineParser.parse(Substring(line)))
        #expect(s.labels.description == series)
        #expect(s.value.isNaN ? value.isNaN : s.value == value)
        #expect(s.timestamp == t)
        // The fast path agrees with the full parse.
        let bytes = Array(line.utf8)[...]
        let split = try #require(SampleLineParser.seriesEnd(bytes))
        let (v, ts) = try SampleLineParser.valueAndTimestamp(bytes[split...])
        #expect(v.isNaN ? value.isNaN : v == value)
        #expect(ts == t)
    }

    @Test(arguments: ["up", "up{a=\"1\"", "up{a=1} 2", "up{a=\"1\"} x", "up 1 2 3", "up{a=\"1\",a=\"2\"} 1", "1up 2", "up 1 1.5"])
    func rejectsMalformedLines(_ line: String) {
        #expect(throws: SampleLineError.self) { try SampleLineParser.parse(Substring(line)) }
    }

    @Test func commentsAndBlankLinesAreNotSamples() throws {
        #expect(try SampleLineParser.parse("# TYPE up gauge") == nil)
        #expect(try SampleLineParser.parse("   ") == nil)
    }

    @Test func seriesTextIsTheCacheKey() {
        let a = Array("up {job=\"x\"} 1".utf8)[...], b = Array("up 5".utf8)[...]
        #expect(SampleLineParser.seriesEnd(a).map { String(decoding: a[..<$0], as: UTF8.self) } == "up {job=\"x\"}")
        #expect(SampleLineParser.seriesEnd(b).map { String(decoding: b[..<$0], as: UTF8.self) } == "up")
    }
}

@Suite struct SeriesTextCacheTests {
    @Test func findsWhatWasInsertedAndNothingElse() {
        var cache = SeriesTextCache(capacity: 3)
        let a = Array("up{a=\"1\"}".utf8), b = Array("up{a=\"2\"}".utf8)
        cache.insert(a[...], 7)
        #expect(cache.ref(for: a[...]) == 7)
        #expect(cache.ref(for: b[...]) == nil)
        var buffer = Array("xx up{a=\"1\"} 5".utf8)
        #expect(cache.ref(for: buffer[3..<12]) == 7)     // a slice of another buffer
        buffer[4] = 0
        #expect(cache.ref(for: a[...]) == 7)             // the key was copied
        cache.insert(b[...], 8)
        cache.insert(Array("c".utf8)[...], 9)
        cache.insert(Array("d".utf8)[...], 10)           // over capacity: not kept
        #expect(cache.count == 3 && cache.ref(for: Array("d".utf8)[...]) == nil)
    }

    /// Retaining some entries keeps their keys, refs, marks and order; the rest are gone.
    @Test func retainKeepsWhatItKeeps() {
        var cache = SeriesTextCache()
        for i in 0..<1000 { cache.insert(Array("m{i=\"\(i)\"}".utf8)[...], SeriesRef(i), dropped: i % 7 == 0, seen: i % 3) }
        cache.retain { $0.lastSeen != 0 }
        #expect(cache.count == 666)
        for i in 0..<1000 {
            let key = Array("m{i=\"\(i)\"}".utf8)[...]
            if i % 3 == 0 {
                #expect(cache.index(of: key) == nil)
            } else {
                let e = cache.index(of: key).map { cache.entries[$0] }
                #expect(e?.ref == SeriesRef(i) && e?.dropped == (i % 7 == 0) && e?.lastSeen == i % 3)
            }
        }
        let expected: [SeriesRef] = (0..<1000).filter { $0 % 3 != 0 }.map { SeriesRef($0) }
        let refs: [SeriesRef] = cache.entries.map(\.ref)
        #expect(refs == expected)
    }

    /// A guessed index is only a shortcut: right or wrong, out of range or not, the answer is
    /// the one of a plain lookup.
    @Test func guessesNeverChangeTheAnswer() {
        var cache = SeriesTextCache()
        let keys = (0..<300).map { Array("m{i=\"\($0)\"}".utf8) }
        for (i, k) in keys.enumerated() { cache.insert(k[...], SeriesRef(i)) }
        var state: UInt64 = 5
        func next() -> Int { state = state &* 6_364_136_223_846_793_005 &+ 1; return Int(state >> 33) }
        for _ in 0..<5000 {
            let probe = next() % 2 == 0 ? keys[next() % keys.count] : Array("m{i=\"\(next() % 600)\"}".utf8)
            let guess = next() % 3 == 0 ? cache.index(of: probe[...]) ?? 0 : next() % 320 - 10
            #expect(cache.index(of: probe[...], guess: guess) == cache.index(of: probe[...]))
        }
    }
}

@Suite struct ValueParsingTests {
    /// The in-place number parser agrees with Swift's on integers, decimals and exponents,
    /// and accepts exactly the spellings the text format allows.
    @Test func fastPathAgreesWithTheStrictParser() {
        var state: UInt64 = 99
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1; return state >> 11 }
        for _ in 0..<20_000 {
            let text: String
            switch next() % 4 {
            case 0: text = String(Int64(bitPattern: next()) % 10_000_000_000)
            case 1: text = "\(Double(next() % 1_000_000) / 1000)"
            case 2: text = "\(Double(bitPattern: next() | 0x3000_0000_0000_0000))"
            default: text = "\(next() % 100)e\(Int(next() % 40) - 20)"
            }
            let fast = SampleLineParser.parseValue(Array(text.utf8)[...])
            #expect(fast == Double(text), "\(text)")
        }
        for (t, want) in [("+Inf", Double.infinity), ("-Inf", -.infinity), ("Inf", .infinity), ("1e3", 1000), ("-0", -0.0), (".5", 0.5)] {
            #expect(SampleLineParser.parseValue(Array(t.utf8)[...]) == want, "\(t)")
        }
        #expect(SampleLineParser.parseValue(Array("NaN".utf8)[...])?.isNaN == true)
        for bad in ["0x10", "1_000", "abc", "1.2.3", "", "infinity1", "+", "1e"] {
            #expect(SampleLineParser.parseValue(Array(bad.utf8)[...]) == nil, "\(bad)")
        }
    }
}

@Suite struct SeriesTextCacheGrowthTests {
    /// Thousands of keys through several table growths: every one found, no stranger matched.
    @Test func growsAndFindsEveryKey() {
        var cache = SeriesTextCache()
        for i in 0..<20_000 { cache.insert(Array("metric{id=\"\(i)\",pad=\"\(i % 7)\"}".utf8)[...], SeriesRef(i)) }
        #expect(cache.count == 20_000)
        for i in stride(from: 0, to: 20_000, by: 7) {
            #expect(cache.ref(for: Array("metric{id=\"\(i)\",pad=\"\(i % 7)\"}".utf8)[...]) == SeriesRef(i))
        }
        #expect(cache.ref(for: Array("metric{id=\"20001\",pad=\"0\"}".utf8)[...]) == nil)
        let i = cache.insert(Array("gone".utf8)[...], 0, dropped: true)
        #expect(i != nil && cache.ref(for: Array("gone".utf8)[...]) == nil && cache.index(of: Array("gone".utf8)[...]) == i)
    }
}

@Suite struct TextParserTests {
    @Test func walksABodyAndKeepsMetadata() throws {
        let body = Array("# HELP up Target up.\n# TYPE up gauge\n\nup{job=\"a\"} 1\n# a free comment\nup{job=\"b\"} 0 1000\r\n".utf8)
        var p = TextParser(body)
        var samples: [(String, Double, Int64?)] = [], meta: [String] = []
        while let e = try p.next() {
            switch e {
            case .sample(let s, let v, let t): samples.append((String(decoding: s, as: UTF8.self), v, t))
            case .metadata(let kind, let metric, let text): meta.append("\(kind) \(metric) \(text)")
            }
        }
        #expect(samples.map(\.0) == ["up{job=\"a\"}", "up{job=\"b\"}"])
        #expect(samples.map(\.1) == [1, 0] && samples.map(\.2) == [nil, 1000])
        #expect(meta == ["HELP up Target up.", "TYPE up gauge"])
        // Without metadata entries the comment lines only move the digest.
        var quiet = TextParser(body, metadata: false)
        var count = 0
        while let e = try quiet.next() {
            if case .metadata = e { Issue.record("metadata entry from a quiet parser") }
            count += 1
        }
        #expect(count == 2 && quiet.commentDigest != 0)
        var changed = TextParser(Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "gauge", with: "counter").utf8), metadata: false)
        while try changed.next() != nil {}
        #expect(changed.commentDigest != quiet.commentDigest)
        #expect(TextParser.metadata(of: body).count == 2)
        var bad = TextParser(Array("ok 1\nbroken{ 2\n".utf8))
        _ = try bad.next()
        #expect(throws: ExpositionError.self) { try bad.next() }
    }

    /// 50k seeded mutations of a body: every entry parses or the body is rejected, never a trap,
    /// and whatever is accepted gives labels that parse too.
    @Test func randomBodiesNeverTrap() {
        let seed = Array("# TYPE a counter\na_total{x=\"1\",y=\"a\\\"b\"} 12.5 1000\nb 1e3\n{__name__=\"c\"} NaN\nd{z=\"\"} -Inf\n".utf8)
        let alphabet = Array("{}=\",# \n\\0123456789.e+-InfNa_abcxyz\t".utf8)
        var state: UInt64 = 7
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state >> 17 }
        var accepted = 0
        for _ in 0..<50_000 {
            var b = seed
            for _ in 0..<(1 + next() % 4) where !b.isEmpty {
                let at = Int(next() % UInt64(b.count))
                switch next() % 3 {
                case 0: b.remove(at: at)
                case 1: b.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: at)
                default: b[at] = alphabet[Int(next() % UInt64(alphabet.count))]
                }
            }
            var p = TextParser(b)
            var ok = true
            while ok {
                do {
                    guard let e = try p.next() else { break }
                    if case .sample(let s, _, _) = e { _ = try? TextParser.labels(of: s) }
                } catch {
                    ok = false
                }
            }
            if ok { accepted += 1 }
        }
        #expect(accepted > 1000)
    }
}

extension TextParserTests {
    /// Parsing with series texts offered as known (the scrape cache's guess) gives exactly the
    /// entries of a plain parse, on seeded hostile bodies: keys cut from other bodies, matching
    /// or not, bare names followed by labels, braces inside quotes.
    @Test func knownSeriesGiveTheSameEntries() {
        let seeds = ["a{x=\"1\"} 1\na 2\na {x=\"2\"} 3\nb{y=\"}\"} 4 1000\nc{z=\"a b\"} 5\nd\t6\n",
                     "m{a=\"1\"}} 1\nm 1 2 3\nm{a=\"1\"}\nmm 1\nm{a=\"\\\"\"} 2\n"].map { Array($0.utf8) }
        let alphabet = Array("{}=\",# \n\\0123456789.e+-abmxyz\t".utf8)
        var state: UInt64 = 11
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state >> 17 }
        func entries(_ b: [UInt8], known: (UnsafeBufferPointer<UInt8>) -> Int?) -> [String] {
            var p = TextParser(b)
            var out: [String] = []
            while true {
                do {
                    guard let e = try p.next(known: known) else { return out }
                    if case .sample(let s, let v, let t) = e { out.append("\(String(decoding: s, as: UTF8.self)) \(v) \(t ?? -1)") }
                } catch {
                    out.append("error at \(p.lineNumber)")
                    return out
                }
            }
        }
        var keys: [[UInt8]] = []
        var matched = 0
        for round in 0..<3000 {
            var b = seeds[round % seeds.count]
            for _ in 0..<(next() % 4) where !b.isEmpty {
                b[Int(next() % UInt64(b.count))] = alphabet[Int(next() % UInt64(alphabet.count))]
            }
            let plain = entries(b) { _ in nil }
            var p = TextParser(b)
            while let e = try? p.next() { if case .sample(let s, _, _) = e { keys.append(Array(s)) } }
            let offered = entries(b) { line in
                let candidates = keys.filter { $0.count <= line.count && line.starts(with: $0) }
                guard !candidates.isEmpty else { return nil }
                matched += 1
                return candidates[Int(next() % UInt64(candidates.count))].count
            }
            #expect(offered == plain, "\(String(decoding: b, as: UTF8.self))")
        }
        #expect(matched > 1000)
    }
}

@Suite struct LineSplitterTests {
    /// Any cut of a stream into chunks gives the lines splitting the whole stream gives.
    @Test func chunkBoundariesDoNotChangeTheLines() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let body = (0..<Int.random(in: 0..<400, using: &rng)).map { _ in [UInt8(10), 97, 98, 32][Int.random(in: 0..<4, using: &rng)] }
            var expected = body.split(separator: 10, omittingEmptySubsequences: false).map { Array($0) }
            if body.last == 10 || body.isEmpty { expected.removeLast() }
            var splitter = LineSplitter()
            var got: [[UInt8]] = []
            var i = 0
            while i < body.count {
                let n = Int.random(in: 1...50, using: &rng)
                splitter.feed(body[i..<min(i + n, body.count)]) { got.append(Array($0)) }
                i += n
            }
            splitter.finish { got.append(Array($0)) }
            #expect(got == expected)
            #expect(splitter.pending == 0)
        }
    }
}
