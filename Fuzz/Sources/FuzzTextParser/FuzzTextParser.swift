// Fuzzes the Prometheus text-format scrape path: TextParser, SampleLineParser, LineSplitter.
//
// Input: an exposition body. Properties checked besides "no trap":
// - TextParser gives the same entries (or fails at the same line) whether or not its caller
//   offers known series texts (`next(known:)`, the scrape cache's fast path);
// - LineSplitter, fed the body in pieces, gives exactly the body's lines.
import CFuzzMain
import Exposition
import Storage

/// Most samples of one body given to the label parser (the slow path of a scrape).
let maxLabelParses = 512

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    // 1. The scrape parser, plain, collecting what it gives.
    var first: [Entry] = []
    var firstError: ExpositionError?
    var series: [ArraySlice<UInt8>] = []
    var parser = TextParser(bytes)
    do {
        while let entry = try parser.next() {
            first.append(Entry(entry))
            if case .sample(let s, _, _) = entry {
                series.append(s)
                // What a scrape does on a series cache miss.
                if series.count <= maxLabelParses { _ = try? TextParser.labels(of: s) }
            }
        }
    } catch {
        firstError = error
    }

    // 2. Again, offered series texts of the first pass as a scrape cache would (what the
    //    last scrape had near this position): `known` answers the length of the first
    //    candidate the line starts with. Neighbours come first, so a text that is only a
    //    prefix of the line's series (`foo` for `foo_bar 1`) is offered too.
    var second: [Entry] = []
    var secondError: ExpositionError?
    var next = 0
    parser = TextParser(bytes)
    do {
        while let entry = try parser.next(known: { line in
            for i in [next + 1, next - 1, next] where i >= 0 && i < series.count {
                let candidate = series[i]
                if line.count >= candidate.count && line.prefix(candidate.count).elementsEqual(candidate) {
                    return candidate.count
                }
            }
            return nil
        }) {
            second.append(Entry(entry))
            if case .sample = entry { next += 1 }
        }
    } catch {
        secondError = error
    }
    guard first == second, firstError == secondError else {
        fatalError("""
            TextParser differs with known series: \(first.count) vs \(second.count) entries, \
            errors \(String(describing: firstError)) vs \(String(describing: secondError)); \
            first difference: \(String(describing: zip(first, second).first { $0 != $1 }))
            """)
    }

    // 3. Metadata-off mode (what a scrape runs) and the metadata reader.
    parser = TextParser(bytes, metadata: false)
    while (try? parser.next()) != nil {}
    _ = TextParser.metadata(of: bytes)

    // 4. LineSplitter fed in pieces whose sizes come from the body itself, against a split.
    var splitter = LineSplitter()
    var lines: [ArraySlice<UInt8>] = []
    var offset = 0
    while offset < bytes.count {
        let piece = 1 + Int(bytes[offset] % 61)
        let end = min(bytes.count, offset + piece)
        splitter.feed(bytes[offset..<end]) { lines.append($0) }
        offset = end
    }
    splitter.finish { lines.append($0) }
    var expected = bytes.split(separator: 10, omittingEmptySubsequences: false)
    if expected.last?.isEmpty == true { expected.removeLast() }
    guard lines.count == expected.count, zip(lines, expected).allSatisfy({ $0.elementsEqual($1) }) else {
        fatalError("LineSplitter gave \(lines.count) lines, the body has \(expected.count)")
    }

    // 5. Each line through the import-format parser and the pieces the scrape path uses.
    for line in lines.prefix(maxLabelParses) {
        _ = try? SampleLineParser.parse(Substring(decoding: line, as: UTF8.self))
        guard let end = SampleLineParser.seriesEnd(line) else { continue }
        _ = try? SampleLineParser.parseSeries(Substring(decoding: line[..<end], as: UTF8.self))
        let rest = line[end...]
        _ = try? SampleLineParser.valueAndTimestamp(rest)
        _ = try? SampleLineParser.openMetricsValueAndTimestamp(rest)
        _ = SampleLineParser.parseValue(rest)
    }
    return 0
}

/// A TextEntry made comparable (values by bit pattern).
enum Entry: Equatable {
    case sample(series: [UInt8], value: UInt64, timestamp: Int64?)
    case metadata(kind: String, metric: String, text: String)

    init(_ e: TextEntry) {
        switch e {
        case .sample(let s, let v, let t): self = .sample(series: Array(s), value: v.bitPattern, timestamp: t)
        case .metadata(let k, let m, let t): self = .metadata(kind: k, metric: m, text: t)
        }
    }
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzTextParser_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
