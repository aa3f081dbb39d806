// Fuzzes the OpenMetrics 1.0 text parser (validation included).
//
// Input: an exposition body, as bytes (as the scrape path hands it over). Errors are
// expected; traps are the finding. What parses must keep the invariants the parser promises:
// samples in the family their name belongs to, each family once, and each sample's series
// slice of the body reading back (as a scrape's cache miss reads it) to the labels the
// validator saw.
import CFuzzMain
import Exposition
import Storage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    guard let families = try? OpenMetricsParser.parse(body) else { return 0 }
    for family in families {
        precondition(!family.name.isEmpty, "family without a name")
        for sample in family.samples {
            precondition(sample.name.hasPrefix(family.name), "sample \(sample.name) in family \(family.name)")
            let read = try? SampleLineParser.parseSeries(Substring(decoding: body[sample.series], as: UTF8.self))
            let seen = Labels([Label(Labels.metricName, sample.name)] + sample.labels.map { Label($0.name, $0.value) })
            precondition(read == seen, "series text \(body[sample.series]) reads as \(String(describing: read)), not \(seen)")
        }
    }
    precondition(Set(families.map(\.name)).count == families.count, "a family appears twice")
    return 0
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzOpenMetricsParser_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
