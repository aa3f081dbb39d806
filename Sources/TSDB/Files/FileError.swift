#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import Storage
#endif

/// A failed file-system call, with the operation, the path and the system's reason.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// True when the disk (or a file-size limit) is full.
    public var isOutOfSpace: Bool { code == ENOSPC || code == EFBIG || code == EDQUOT }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(code)))"
    }
}
