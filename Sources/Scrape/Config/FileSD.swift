import Foundation
import TSDB
import Yams

/// file_sd_configs: JSON or YAML files of `[{targets: [...], labels: {...}}]`, each target
/// with `__meta_filepath`.
public enum FileSD {
    public static func read(_ patterns: [String]) -> [Labels] {
        var out: [Labels] = []
        for pattern in patterns {
            for file in expand(pattern) {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                      let groups = try? Yams.load(yaml: text) as? [[String: Any]] else { continue }
                for g in groups {
                    let targets = (g["targets"] as? [Any])?.compactMap { $0 as? String } ?? []
                    var base: [String: String] = ["__meta_filepath": file]
                    for (k, v) in (g["labels"] as? [String: Any]) ?? [:] { base[k] = "\(v)" }
                    for t in targets {
                        var l = base
                        l["__address__"] = t
                        out.append(Labels(l))
                    }
                }
            }
        }
        return out
    }

    /// Modification times of the matching files, to notice changes.
    public static func modificationTimes(_ patterns: [String]) -> [String: Date] {
        var out: [String: Date] = [:]
        for p in patterns {
            for f in expand(p) {
                out[f] = (try? FileManager.default.attributesOfItem(atPath: f)[.modificationDate]) as? Date ?? .distantPast
            }
        }
        return out
    }

    /// A path with an optional `*` in its last element.
    static func expand(_ pattern: String) -> [String] {
        guard pattern.contains("*") else { return [pattern] }
        let dir = (pattern as NSString).deletingLastPathComponent
        let name = (pattern as NSString).lastPathComponent
        let parts = name.split(separator: "*", maxSplits: 1, omittingEmptySubsequences: false)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? []
        return files.filter { $0.hasPrefix(parts[0]) && (parts.count < 2 || $0.hasSuffix(parts[1])) }
            .sorted().map { (dir.isEmpty ? "" : dir + "/") + $0 }
    }
}
