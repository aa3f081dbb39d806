import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import Storage
#endif

/// Small POSIX helpers for the storage directory.
enum Files {
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func makeDirectory(_ path: String) throws(FileError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileError("mkdir", path, code: EIO)
        }
    }

    /// Names in a directory, sorted; empty when it does not exist.
    static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    static func rename(_ from: String, _ to: String) throws(FileError) {
        if Glibc.rename(from, to) != 0 { throw FileError("rename", from + " -> " + to) }
    }

    /// A hard link (a copy when the file system refuses links).
    static func link(_ from: String, _ to: String) throws(FileError) {
        if Glibc.link(from, to) == 0 { return }
        do { try FileManager.default.copyItem(atPath: from, toPath: to) } catch { throw FileError("link", from + " -> " + to, code: EXDEV) }
    }

    /// Size of a file in bytes, nil when it does not exist.
    static func size(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// Total size of the regular files below `path`.
    static func treeSize(_ path: String) -> Int {
        guard let e = FileManager.default.enumerator(atPath: path) else { return size(path) ?? 0 }
        var total = 0
        while let name = e.nextObject() as? String {
            total += size(path + "/" + name).map { isDirectory(path + "/" + name) ? 0 : $0 } ?? 0
        }
        return total
    }

    static func readAll(_ path: String) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileError("open", path) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw FileError("stat", path) }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; throw FileError("read", path) }
            if n == 0 { break }
            done += n
        }
        if done < out.count { out.removeLast(out.count - done) }
        return out
    }

    /// Writes a whole file and syncs it.
    static func write(_ bytes: [UInt8], to path: String) throws(FileError) {
        let file = try AppendFile(path: path, truncate: true)
        try file.append(bytes)
        try file.sync()
        file.close()
    }

    /// Syncs a directory so that renames and creations in it are durable.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}

/// Bytes in the regular files below `path` (what `du` counts, without block rounding).
public func directorySize(_ path: String) -> Int { Files.treeSize(path) }

/// A file opened for appending, tracking its size.
final class AppendFile {
    let path: String
    private var fd: Int32
    private(set) var size: Int

    init(path: String, truncate: Bool = false) throws(FileError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o644)
        if fd < 0 { throw FileError("open", path) }
        let end = lseek(fd, 0, SEEK_END)
        if end < 0 { let e = FileError("seek", path); Glibc.close(fd); throw e }
        size = Int(end)
    }

    deinit { close() }

    /// Appends every byte or none: on failure the file is cut back to its previous size.
    func append(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                let error = FileError("write", path)
                _ = ftruncate(fd, off_t(size))
                _ = lseek(fd, off_t(size), SEEK_SET)
                throw error
            }
            done += n
        }
        size += bytes.count
    }

    func append(_ bytes: [UInt8]) throws(FileError) {
        var failure: FileError?
        bytes.withUnsafeBytes { b in
            do throws(FileError) { try append(b) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func sync() throws(FileError) {
        if fd >= 0 && fsync(fd) != 0 { throw FileError("fsync", path) }
    }

    /// Cuts the file to `length` bytes (appends continue there).
    func truncate(to length: Int) {
        guard fd >= 0, ftruncate(fd, off_t(length)) == 0 else { return }
        _ = lseek(fd, off_t(length), SEEK_SET)
        size = length
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }
}

/// A read-only memory mapping of a whole file, unmapped when released.
///
/// Ownership: immutable after `init`; the mapped bytes are never written, so any thread may
/// read them while it holds a reference.
final class MappedFile: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws(FileError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileError("open", path) }
        defer { Glibc.close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw FileError("stat", path) }
        let count = Int(st.st_size)
        if count == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw FileError("mmap", path)
        }
        bytes = UnsafeRawBufferPointer(start: p, count: count)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// An exclusive lock on a data directory, held for the life of the process's `DB`.
///
/// Ownership: `fd` is written only by `init` and by `release()`, which the `DB` calls once,
/// from `close()`, after its last use.
final class DirectoryLock: @unchecked Sendable {
    let path: String
    private var fd: Int32

    /// Takes the lock or fails at once, naming the process that holds it when it can.
    init(directory: String) throws(DBError) {
        path = directory + "/lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw .io(FileError("open", path)) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            Glibc.close(fd)
            fd = -1
            throw DirectoryLock.heldError(directory)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// The error for a directory another process holds, naming it from the lock file's pid.
    static func heldError(_ directory: String) -> DBError {
        let holder = (try? Files.readAll(directory + "/lock")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return .locked(directory: directory, holder: holder.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func release() {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            Glibc.close(fd)
            fd = -1
        }
    }

    deinit { release() }
}

