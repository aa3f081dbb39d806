import ArgumentParser
import Exposition
import Foundation
import Scrape
import TSDB
#if canImport(Glibc)
import Glibc
#endif

/// The exposition format of an import file.
enum ImportFormat: String, ExpressibleByArgument, CaseIterable {
    /// OpenMetrics when the file ends with `# EOF`, the text format otherwise.
    case auto
    /// Prometheus text format: timestamps in milliseconds.
    case text
    /// OpenMetrics: timestamps in seconds, `# EOF` last.
    case openmetrics
}

/// A bad line of an import file, with where it is.
struct ImportLineError: Error, CustomStringConvertible {
    let file: String
    let line: Int
    let message: String
    var description: String { "\(file):\(line): \(message)" }
}

/// Reads one exposition file line by line (in 4 MB reads, so files larger than memory are
/// fine) into a `BlockImporter`; bad lines are collected, not fatal, so every one is reported.
struct ImportFileReader {
    let path: String
    let format: ImportFormat
    var samples = 0
    var errors: [ImportLineError] = []
    var errorCount = 0
    private var ingester: LineIngester
    private var lineNumber = 0
    private var sawEOF = false
    /// Newest timestamp accepted: the clock plus the store's future window, as the server
    /// takes samples (a block stamped far ahead would otherwise drive retention).
    private let latestTime = HeadOptions().latestTime

    init(path: String, format: ImportFormat) throws {
        self.path = path
        self.format = format == .auto ? try Self.detect(path) : format
        // No label limits: a file is the operator's own, read once (the store's own bounds
        // still apply).
        ingester = LineIngester(format: self.format == .openmetrics ? .openMetrics : .text, limits: LabelLimits(),
                                cacheCapacity: 10_000_000)
    }

    /// OpenMetrics when the last non-blank line is `# EOF`.
    static func detect(_ path: String) throws -> ImportFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size > 64 ? size - 64 : 0)
        let tail = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        let last = tail.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }
        return last?.trimmingCharacters(in: .whitespaces) == "# EOF" ? .openmetrics : .text
    }

    /// Reads the whole file; `progress` hears the bytes and samples read so far.
    mutating func read(into importer: BlockImporter, progress: (_ bytes: Int, _ samples: Int) -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImportFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var lines = LineSplitter()
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImportFailure("reading \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            total += n
            try lines.feed(buffer[..<n]) { try line($0, importer) }
            guard lines.pending <= SampleLineParser.maxLineLength else {
                throw ImportFailure("\(path):\(lineNumber + 1): a line longer than \(SampleLineParser.maxLineLength >> 20) MiB; is this an exposition file?")
            }
            progress(total, samples)
        }
        try lines.finish { try line($0, importer) }
        if format == .openmetrics && !sawEOF { reject("an OpenMetrics file must end with \"# EOF\"") }
    }

    static func isEOF(_ b: ArraySlice<UInt8>) -> Bool {
        var end = b.endIndex
        while end > b.startIndex && (b[end - 1] == 32 || b[end - 1] == 9 || b[end - 1] == 13) { end -= 1 }
        return b[b.startIndex..<end].elementsEqual("# EOF".utf8)
    }

    mutating func reject(_ message: String) {
        errorCount += 1
        if errors.count < 20 { errors.append(ImportLineError(file: path, line: lineNumber, message: message)) }
    }

    mutating func line(_ bytes: ArraySlice<UInt8>, _ importer: BlockImporter) throws {
        lineNumber += 1
        if sawEOF {
            if bytes.contains(where: { $0 != 32 && $0 != 9 && $0 != 13 }) { reject("text after \"# EOF\"") }
            return
        }
        let latest = latestTime
        do {
            let read = try ingester.ingest(bytes, time: { timestamp throws(ImportLineRefusal) in
                guard let timestamp else { throw ImportLineRefusal("a sample needs a timestamp to be imported") }
                guard timestamp >= HeadOptions.earliestTime, timestamp <= latest else {
                    throw ImportLineRefusal("timestamp \(timestamp) is outside what the store accepts (too far in the future, or not representable)")
                }
                return timestamp
            }, create: { labels, t, v in
                let id = importer.seriesID(labels)
                try importer.add(id, t, v)
                return SeriesRef(id)
            }, append: { ref, t, v in
                try importer.add(UInt32(truncatingIfNeeded: ref), t, v)
            })
            switch read {
            case .sample: samples += 1
            case .comment(let text): if format == .openmetrics && Self.isEOF(text) { sawEOF = true }
            case .blank: break
            }
        } catch let e as SampleLineError {
            reject(e.message)
        } catch let e as ImportLineRefusal {
            reject(e.description)
        }
    }
}

/// Why a line of an import file is refused, though it parses.
struct ImportLineRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An import that cannot go on, with the reason.
struct ImportFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
