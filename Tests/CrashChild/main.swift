// A child process for the crash tests: appends batches to a data directory and prints a
// line after each commit returns, until it is killed (or the disk fills).
//
// usage: tsdb-crash-child DIR SERIES SEGMENT_BYTES [FILE_SIZE_LIMIT]
import Foundation
import TSDB
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
guard args.count >= 4, let seriesCount = Int(args[2]), let segmentBytes = Int(args[3]) else {
    FileHandle.standardError.write(Data("usage: tsdb-crash-child DIR SERIES SEGMENT_BYTES [FILE_SIZE_LIMIT]\n".utf8))
    exit(2)
}
if args.count > 4, let limit = UInt(args[4]) {
    // Simulate a full disk: writes past this size fail with EFBIG instead of a signal.
    signal(SIGXFSZ, SIG_IGN)
    var rl = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
    setrlimit(Int32(RLIMIT_FSIZE.rawValue), &rl)
}

/// Writes a line straight to standard output (no buffering to lose on SIGKILL).
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// The value every process agrees on for series `i` at time `t`.
func expectedValue(_ i: Int, _ t: Int64) -> Double { Double(t / 1000 % 100_000) + Double(i) / 8 }

var options = DBOptions()
options.walSegmentSize = segmentBytes
let db: DB
do { db = try DB.open(directory: args[1], options: options) } catch {
    say("open failed: \(error)")
    exit(3)
}
say("replayed \(db.replayStats.samples) corruptions \(db.replayStats.corruptions)")
let app = db.appender()
var t = db.head.stats.maxTime == .min ? 1_000_000 : db.head.stats.maxTime + 1000
let labels = (0..<seriesCount).map { Labels(["__name__": "crash_test", "series": String($0)]) }
var refs: [SeriesRef?] = Array(repeating: nil, count: seriesCount)
while true {
    do {
        for i in 0..<seriesCount {
            if let r = refs[i] { try app.append(r, t, expectedValue(i, t)) } else {
                refs[i] = try app.append(labels[i], t, expectedValue(i, t))
            }
        }
        try app.commit()
    } catch {
        say("commit failed at \(t): \(error)")
        exit(0)
    }
    say("committed \(t)")
    t += 1000
}
