import Foundation
import Storage
import Yams

/// file_sd_configs: JSON or YAML files of `[{targets: [...], labels: {...}}]`, each target
/// with `__meta_filepath`.
public enum FileSD {
    public static func read(_ patterns: [String]) -> [Labels] {
        groups(patterns).flatMap(\.targets)
    }

    /// One group per entry of each matching file (source `<path>:<index>`).
    public static func groups(_ patterns: [String]) -> [TargetGroup] {
        var out: [TargetGroup] = []
        for pattern in patterns {
            for file in expand(pattern) {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                      let groups = try? Yams.load(yaml: text) as? [[String: Any]] else { continue }
                for (i, g) in groups.enumerated() {
                    let targets = (g["targets"] as? [Any])?.compactMap { $0 as? String } ?? []
                    var base: [String: String] = ["__meta_filepath": file]
                    for (k, v) in (g["labels"] as? [String: Any]) ?? [:] { base[k] = "\(v)" }
                    out.append(TargetGroup(source: "\(file):\(i)", targets: targets.map { t in
                        var l = base
                        l["__address__"] = t
                        return Labels(l)
                    }))
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

    /// A path with an optional `*` in its last element: the files it names, sorted.
    public static func expand(_ pattern: String) -> [String] {
        guard pattern.contains("*") else { return [pattern] }
        let dir = (pattern as NSString).deletingLastPathComponent
        let name = (pattern as NSString).lastPathComponent
        let parts = name.split(separator: "*", maxSplits: 1, omittingEmptySubsequences: false)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? []
        return files.filter { $0.hasPrefix(parts[0]) && (parts.count < 2 || $0.hasSuffix(parts[1])) }
            .sorted().map { (dir.isEmpty ? "" : dir + "/") + $0 }
    }
}

/// A `file_sd_configs` entry as a provider: its files re-read when their modification times
/// change (checked every second) and at every refresh interval; groups of a file that went
/// away are reported empty.
struct FileDiscovery: DiscoveryProvider {
    let files: [String]
    let refreshInterval: Int64
    /// What the manager already read (it reads the files when a configuration is applied),
    /// and the files' modification times from just before it read them: a change made after
    /// that and before the provider starts running is still noticed.
    let initial: [TargetGroup]
    let initialStamps: [String: Date]

    func run(_ send: @escaping @Sendable ([TargetGroup]) -> Void) async {
        var stamps = initialStamps
        var known = Set(initial.map(\.source))
        var sinceRefresh: Int64 = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            sinceRefresh += 1000
            let now = FileSD.modificationTimes(files)
            guard now != stamps || sinceRefresh >= refreshInterval else { continue }
            stamps = now
            sinceRefresh = 0
            let groups = FileSD.groups(files)
            let sources = Set(groups.map(\.source))
            send(groups + known.subtracting(sources).map { TargetGroup(source: $0, targets: []) })
            known = sources
        }
    }
}
