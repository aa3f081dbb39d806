// Fuzzes what rule files and rule unit tests hold: alert templates, the series notation of
// `sextant test rules`, and rule file YAML.
//
// Input: the first byte chooses; the rest is the text (invalid UTF-8 decoded lossily).
// Properties: nothing traps; a template that parses runs to text within the output limit
// (or fails with Go's words); series values expand to at most the notation's sample limit;
// a rule file either loads or names its problems.
import CFuzzMain
@testable import Rules
import Storage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    switch data[0] % 3 {
    case 0: template(text)
    case 1: series(text)
    default: ruleFile(text)
    }
    return 0
}

/// Parsed with Prometheus' header, run on one alert with a query that answers one sample.
func template(_ text: String) {
    guard let t = try? AlertTemplate(text, alertName: "A") else { return }
    let limit = 4096
    let environment = TemplateEnvironment(externalURL: "http://sextant:9090", query: { expr in
        expr.isEmpty ? [] : [.sample(labels: [("__name__", "m"), ("instance", expr)], value: 0.5)]
    }, maxOutputBytes: limit)
    let out = t.expand(labels: Labels(["__name__": "up", "instance": "a:1", "job": "j"]), value: -1.5e300,
                       externalLabels: Labels(["cluster": "c"]), in: environment)
    guard out.hasPrefix("<error expanding template: ") || out.utf8.count <= limit || t.template == nil else {
        fatalError("template output of \(out.utf8.count) bytes over the \(limit)-byte limit: \(text.debugDescription)")
    }
}

func series(_ text: String) {
    guard let values = try? SeriesNotation.values(text) else {
        _ = try? SeriesNotation.parseMetric(text)
        return
    }
    guard values.count <= SeriesNotation.maxSamples else {
        fatalError("\(values.count) samples from \(text.debugDescription)")
    }
}

func ruleFile(_ text: String) {
    do { _ = try RuleFile.parse(text, path: "fuzz.yml") } catch {
        guard !error.problems.isEmpty else { fatalError("a refused rule file without problems: \(text.debugDescription)") }
    }
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzRules_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
