import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TSDB

/// How far a queue has sent, saved after every finished batch so that a restart resumes where
/// the receiver's acknowledgements ended: per shard (samples go to shard `ref % shards`), the
/// WAL position before which every sample of that shard was sent or dropped for good.
struct SendProgress: Codable, Equatable, Sendable {
    var shards: Int
    var positions: [WALPosition]

    /// Where reading resumes: the least position of any shard.
    var start: WALPosition? { positions.min() }

    /// Whether the sample at `position` of series `ref` was already handled.
    func handled(_ ref: UInt64, at position: WALPosition) -> Bool {
        guard shards > 0, positions.count == shards else { return false }
        return position < positions[Int(ref % UInt64(shards))]
    }

    static func load(_ path: String) -> SendProgress? {
        guard let data = FileManager.default.contents(atPath: path),
              let p = try? JSONDecoder().decode(SendProgress.self, from: data),
              p.shards > 0, p.positions.count == p.shards,
              p.positions.allSatisfy({ $0.segment >= 0 && $0.offset >= 0 && $0.sample >= 0 }) else { return nil }
        return p
    }

    /// Writes to a temporary file and renames it over the old one: a crash leaves one or the other.
    func save(_ path: String) throws {
        // Written by hand (it is saved after every batch; JSONEncoder showed in profiles); read
        // back with JSONDecoder.
        var text = "{\"shards\":\(shards),\"positions\":["
        for (i, p) in positions.enumerated() {
            text += (i == 0 ? "" : ",") + "{\"segment\":\(p.segment),\"offset\":\(p.offset),\"sample\":\(p.sample)}"
        }
        text += "]}\n"
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: tmp]) }
        let written = text.utf8.withContiguousStorageIfAvailable { write(fd, $0.baseAddress, $0.count) } ?? -1
        close(fd)
        guard written == text.utf8.count, rename(tmp, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
