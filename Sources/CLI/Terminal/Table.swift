/// Rows as aligned columns separated by two spaces; the last column is not padded.
func textTable(_ rows: [[String]]) -> String {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.map { r in
        r.indices.map { c in c == r.count - 1 ? r[c] : r[c].padding(toLength: widths[c], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}
