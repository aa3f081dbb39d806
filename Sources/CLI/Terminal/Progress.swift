import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress display on stderr, drawn only when stderr is a terminal and at most
/// five times a second; piped or redirected output never sees it.
final class Progress {
    let enabled: Bool
    private var lastDraw: UInt64 = 0
    private var drawn = false

    init(enabled: Bool = isatty(STDERR_FILENO) == 1) { self.enabled = enabled }

    /// Redraws the line (`fraction` of the bar filled, then `text`) unless it was drawn
    /// less than 200 ms ago; `force` draws anyway.
    func update(_ fraction: Double, _ text: String, force: Bool = false) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - lastDraw >= 200_000_000 else { return }
        lastDraw = now
        let width = 30
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = Int((min(max(fraction, 0), 1) * 100).rounded(.down))
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(percent)% \(text)".utf8))
        drawn = true
    }

    /// Clears the line, so what follows starts on a clean one.
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}

/// Writes a line to stderr.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Bytes for people: 1.2 MB, 340 kB.
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var v = Double(bytes)
    var u = 0
    while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
    return u == 0 ? "\(bytes) B" : String(format: "%.1f", v) + " " + units[u]
}
