import Foundation
import CSnappy

/// Snappy's block format (not the framed one), as remote write and remote read use it: Debian's
/// libsnappy through its C API.
public enum Snappy {
    /// Why a snappy block was refused.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The block's header is not a valid length, or its body does not decode to it.
        case corrupt
        /// The block decodes to more bytes than the caller takes; nothing was allocated.
        case tooLarge(decoded: Int, limit: Int)

        public var description: String {
            switch self {
            case .corrupt: "corrupt snappy block"
            case .tooLarge(let decoded, let limit): "snappy block decodes to \(decoded) bytes, more than the limit of \(limit)"
            }
        }
    }

    /// The block format of `input`.
    public static func compress(_ input: some ContiguousBytes) -> [UInt8] {
        input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [UInt8] in
            let bound = snappy_max_compressed_length(raw.count)
            return [UInt8](unsafeUninitializedCapacity: bound) { out, count in
                var length = bound
                guard let base = out.baseAddress else { count = 0; return }
                let status = base.withMemoryRebound(to: CChar.self, capacity: bound) { dst in
                    snappy_compress(raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count, dst, &length)
                }
                // Compression cannot fail with a buffer of the bound's size.
                count = status == SNAPPY_OK ? length : 0
            }
        }
    }

    /// Decodes a block. The decoded length, read from the block's header, is checked against
    /// `limit` before anything is allocated.
    public static func decompress(_ input: some ContiguousBytes, limit: Int) throws(Failure) -> [UInt8] {
        let result = input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Result<[UInt8], Failure> in
            let src = raw.baseAddress?.assumingMemoryBound(to: CChar.self)
            var length = 0
            guard raw.count > 0, snappy_uncompressed_length(src, raw.count, &length) == SNAPPY_OK else {
                return .failure(.corrupt)
            }
            guard length <= limit else { return .failure(.tooLarge(decoded: length, limit: limit)) }
            guard length > 0 else {
                return snappy_validate_compressed_buffer(src, raw.count) == SNAPPY_OK ? .success([]) : .failure(.corrupt)
            }
            var ok = false
            let bytes = [UInt8](unsafeUninitializedCapacity: length) { out, count in
                var written = length
                guard let base = out.baseAddress else { count = 0; return }
                let status = base.withMemoryRebound(to: CChar.self, capacity: length) { dst in
                    snappy_uncompress(src, raw.count, dst, &written)
                }
                ok = status == SNAPPY_OK && written == length
                count = ok ? written : 0
            }
            return ok ? .success(bytes) : .failure(.corrupt)
        }
        return try result.get()
    }
}
