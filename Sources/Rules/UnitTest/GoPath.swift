import Foundation

/// Go's path/filepath functions as promtool uses them on the rule files a test file names:
/// `Dir`, `Join` (which cleans), `Clean`, `Match` and `Glob`, with Go's semantics (a `*`
/// matches names starting with a dot; matches come sorted bytewise, directory by directory).
enum GoPath {
    /// filepath.ErrBadPattern.
    struct BadPattern: Error, CustomStringConvertible {
        var description: String { "syntax error in pattern" }
    }

    /// filepath.Clean: `.` and `..` resolved lexically, repeated and trailing slashes removed.
    static func clean(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(part)
                }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// filepath.Join of two elements (empty ones skipped), cleaned.
    static func join(_ a: String, _ b: String) -> String {
        if a.isEmpty { return b.isEmpty ? "" : clean(b) }
        if b.isEmpty { return clean(a) }
        return clean(a + "/" + b)
    }

    /// filepath.Dir: everything before the last slash, cleaned (`.` when there is none).
    static func dir(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return clean(String(path[...slash]))
    }

    /// filepath.Glob: the names matching `pattern`, or the pattern itself when it has no
    /// meta characters and names an existing file (even a dangling link).
    static func glob(_ pattern: String) throws(BadPattern) -> [String] {
        try glob(pattern, depth: 0)
    }

    private static func glob(_ pattern: String, depth: Int) throws(BadPattern) -> [String] {
        guard depth < 10_000 else { throw BadPattern() }
        // Check that the pattern is well-formed.
        _ = try match(pattern, "")
        if !hasMeta(pattern) {
            return (try? FileManager.default.attributesOfItem(atPath: pattern)) != nil ? [pattern] : []
        }
        let (dirPart, file) = split(pattern)
        let directory: String
        switch dirPart {
        case "": directory = "."
        case "/": directory = "/"
        default: directory = String(dirPart.dropLast())
        }
        if !hasMeta(directory) { return try globDirectory(directory, file, []) }
        // Prevent infinite recursion (Go's issue 15879).
        if directory == pattern { throw BadPattern() }
        var matches: [String] = []
        for d in try glob(directory, depth: depth + 1) {
            matches = try globDirectory(d, file, matches)
        }
        return matches
    }

    /// The names in `directory` matching `pattern`, appended to `matches`; I/O errors are
    /// ignored, as Go ignores them.
    private static func globDirectory(_ directory: String, _ pattern: String, _ matches: [String]) throws(BadPattern) -> [String] {
        var out = matches
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return out }
        for name in names.sorted(by: GoText.less) {
            if try match(pattern, name) { out.append(join(directory, name)) }
        }
        return out
    }

    private static func hasMeta(_ path: String) -> Bool {
        path.unicodeScalars.contains { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "\\" }
    }

    /// filepath.Split: up to and including the last slash, and the rest.
    private static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    // MARK: filepath.Match

    /// filepath.Match: `*` (not across `/`), `?`, `[...]` classes with ranges and `^`
    /// negation, `\` escapes; BadPattern for a malformed pattern.
    static func match(_ pattern: String, _ name: String) throws(BadPattern) -> Bool {
        var pattern = Array(pattern.unicodeScalars)
        var name = Array(name.unicodeScalars)
        patterns: while !pattern.isEmpty {
            let (star, chunk, rest) = scanChunk(pattern)
            pattern = rest
            if star && chunk.isEmpty {
                // A trailing * matches the rest of the name unless it has a slash.
                return !name.contains("/")
            }
            // A match at the current position.
            let here = matchChunk(chunk, name)
            if case .matched(let t) = here, t.isEmpty || !pattern.isEmpty {
                name = t
                continue
            }
            if case .bad = here { throw BadPattern() }
            if star {
                // A match skipping i+1 characters; a star does not cross a slash.
                var i = 0
                while i < name.count && name[i] != "/" {
                    let skipped = matchChunk(chunk, Array(name[(i + 1)...]))
                    if case .matched(let t) = skipped {
                        // The last chunk must exhaust the name.
                        if pattern.isEmpty && !t.isEmpty {
                            i += 1
                            continue
                        }
                        name = t
                        continue patterns
                    }
                    if case .bad = skipped { throw BadPattern() }
                    i += 1
                }
            }
            // No match: the rest of the pattern must still be well-formed.
            while !pattern.isEmpty {
                let (_, chunk, rest) = scanChunk(pattern)
                pattern = rest
                if case .bad = matchChunk(chunk, []) { throw BadPattern() }
            }
            return false
        }
        return name.isEmpty
    }

    /// The leading stars, the chunk up to the next star outside a class, the rest.
    private static func scanChunk(_ pattern: [Unicode.Scalar]) -> (star: Bool, chunk: [Unicode.Scalar], rest: [Unicode.Scalar]) {
        var begin = 0
        var star = false
        while begin < pattern.count && pattern[begin] == "*" {
            begin += 1
            star = true
        }
        var inRange = false
        var i = begin
        scan: while i < pattern.count {
            switch pattern[i] {
            case "\\":
                // An error, if any, is reported by matchChunk.
                if i + 1 < pattern.count { i += 1 }
            case "[":
                inRange = true
            case "]":
                inRange = false
            case "*":
                if !inRange { break scan }
            default:
                break
            }
            i += 1
        }
        return (star, Array(pattern[begin..<i]), Array(pattern[i...]))
    }

    private enum ChunkMatch {
        case matched([Unicode.Scalar])
        case failed
        case bad
    }

    /// Matches `chunk` at the start of `s`: the rest of `s`, no match, or a malformed chunk
    /// (checked to its end even after a mismatch).
    private static func matchChunk(_ chunk: [Unicode.Scalar], _ s: [Unicode.Scalar]) -> ChunkMatch {
        var c = 0
        var si = 0
        var failed = false
        while c < chunk.count {
            if !failed && si >= s.count { failed = true }
            switch chunk[c] {
            case "[":
                var r: Unicode.Scalar = "\u{0}"
                if !failed {
                    r = s[si]
                    si += 1
                }
                c += 1
                var negated = false
                if c < chunk.count && chunk[c] == "^" {
                    negated = true
                    c += 1
                }
                var matched = false
                var ranges = 0
                while true {
                    if c < chunk.count && chunk[c] == "]" && ranges > 0 {
                        c += 1
                        break
                    }
                    guard let low = escaped(chunk, c) else { return .bad }
                    c = low.next
                    var high = low.rune
                    if chunk[c] == "-" {
                        guard let h = escaped(chunk, c + 1) else { return .bad }
                        high = h.rune
                        c = h.next
                    }
                    if low.rune <= r && r <= high { matched = true }
                    ranges += 1
                }
                if matched == negated { failed = true }
            case "?":
                if !failed {
                    if s[si] == "/" { failed = true }
                    si += 1
                }
                c += 1
            case "\\":
                c += 1
                if c >= chunk.count { return .bad }
                if !failed {
                    if chunk[c] != s[si] { failed = true }
                    si += 1
                }
                c += 1
            default:
                if !failed {
                    if chunk[c] != s[si] { failed = true }
                    si += 1
                }
                c += 1
            }
        }
        if failed { return .failed }
        return .matched(Array(s[si...]))
    }

    /// One possibly escaped character of a class at `i`, and the index after it; nil when
    /// malformed (nothing after it is malformed too: the class is not closed).
    private static func escaped(_ chunk: [Unicode.Scalar], _ i: Int) -> (rune: Unicode.Scalar, next: Int)? {
        guard i < chunk.count, chunk[i] != "-", chunk[i] != "]" else { return nil }
        var j = i
        if chunk[j] == "\\" {
            j += 1
            if j >= chunk.count { return nil }
        }
        let rune = chunk[j]
        j += 1
        if j >= chunk.count { return nil }
        return (rune, j)
    }
}
