// Fuzzes the block index reader (Sources/TSDB/Blocks/BlockIndex.swift).
//
// Input: an index.db (SQLite). It is written to one temporary file per process, opened with
// BlockIndexReader and read the way a block querier reads it: label names and values,
// postings for matchers, series rows by id (one by one and as a list). Errors are expected;
// traps are the finding. The raw bytes also go straight to the row decoders (labels, chunk
// refs, postings, the older JSON labels), since few mutations of a database still open.
import CFuzzMain
import Glibc
@testable import TSDB

/// One file per process (under $TMPDIR, which Scripts/fuzz.sh points at its work directory).
let path: String = {
    let dir = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    return dir + "/sextant-fuzz-blockindex-\(getpid()).db"
}()
/// Most names, values per name and series per read, so one input stays fast.
let maxItems = 32
/// Most bytes given to the row decoders.
let maxRowBytes = 2048

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // A row is a small blob; a whole database fed to the row decoders cost a quarter of each
    // execution (a postings list of 20k refs) and reached nothing its first bytes do not.
    decodeRows(UnsafeRawBufferPointer(start: data, count: min(size, maxRowBytes)))
    guard write(data, size) else { fatalError("cannot write \(path)") }

    // The series count the block's meta.json would give: the reader checks it.
    let seriesCount: Int
    do {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        let count = try db.prepare("SELECT count(*) FROM series")
        guard try count.step() else { return 0 }
        seriesCount = Int(count.int64(0))
    } catch {
        return 0
    }
    guard let reader = try? BlockIndexReader(path: path, expectedSeries: seriesCount) else { return 0 }

    let names = reader.labelNames()
    var matchers: [LabelMatcher] = []
    for name in names.prefix(maxItems) {
        let values = reader.labelValues(name: name)
        for value in values.prefix(maxItems) {
            let refs = reader.postings(name: name, value: value)
            _ = try? reader.series(Array(refs.prefix(maxItems)))
        }
        if let value = values.first { matchers.append(.equal(name, value)) }
        if let m = try? LabelMatcher(.regexMatch, name, ".+") { matchers.append(m) }
        if let m = try? LabelMatcher(.notEqual, name, values.last ?? "") { matchers.append(m) }
    }
    // As a block querier does: postings for matchers, then their rows in one read.
    for m in matchers.prefix(maxItems) {
        _ = try? reader.series(Array(reader.postings(for: [m]).prefix(256)))
    }
    if matchers.count >= 2 {
        _ = try? reader.series(Array(reader.postings(for: Array(matchers.prefix(2))).prefix(256)))
    }
    _ = try? reader.series(Array(reader.allPostings().prefix(256)))
    for id: SeriesRef in [0, 1, SeriesRef(seriesCount), SeriesRef(seriesCount) &- 1, .max, 1 << 63] {
        _ = try? reader.series(id)
    }
    _ = reader.postings(name: "__name__", value: "up")
    _ = reader.labelValues(name: "")
    return 0
}

/// Writes the input to `path` with plain POSIX calls (no fsync: nothing here must survive).
func write(_ data: UnsafePointer<UInt8>, _ size: Int) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var done = 0
    while done < size {
        let n = Glibc.write(fd, data + done, size - done)
        guard n > 0 else { return false }
        done += n
    }
    return true
}

/// The decoders of an index's rows, on the raw bytes, with a small symbol table.
func decodeRows(_ bytes: UnsafeRawBufferPointer) {
    let symbols = ["", "__name__", "up", "job", "api", "instance", "a:9100", "le", "+Inf", "0.5"]
    let symbol = { (id: Int64) -> String? in id >= 0 && id < symbols.count ? symbols[Int(id)] : nil }
    _ = BlockIndexSchema.decodeLabels(bytes, symbol: symbol)
    if let chunks = BlockIndexSchema.decodeChunks(bytes) {
        // Encoding what was decoded gives it back.
        let again = BlockIndexSchema.encodeChunks(chunks).withUnsafeBytes { BlockIndexSchema.decodeChunks($0) }
        guard let again, again.count == chunks.count,
              zip(again, chunks).allSatisfy({ $0.minTime == $1.minTime && $0.maxTime == $1.maxTime && $0.ref == $1.ref }) else {
            fatalError("chunk refs do not survive encoding: \(chunks.count) decoded, \(again?.count ?? -1) after")
        }
    }
    let refs = BlockIndexSchema.decodeRefs(bytes)
    precondition(refs.count <= bytes.count, "\(refs.count) refs from \(bytes.count) bytes")
    _ = BlockIndexSchema.decodeLabels(json: String(decoding: bytes, as: UTF8.self), symbol: symbol)
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzBlockIndex_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
