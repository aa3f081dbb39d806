// Fuzzes the OpenMetrics 1.0 text parser (validation included).
//
// Input: an exposition body (lossy UTF-8, as the scrape path decodes it). Errors are
// expected; traps are the finding. What parses must keep the invariants the parser promises:
// samples in the family their name belongs to, each family once.
import CFuzzMain
import Exposition

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let families = try? OpenMetricsParser.parse(text) else { return 0 }
    for family in families {
        precondition(!family.name.isEmpty, "family without a name")
        for sample in family.samples {
            precondition(sample.name.hasPrefix(family.name), "sample \(sample.name) in family \(family.name)")
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
