// Fuzzes PromQL evaluation over a small in-memory head.
//
// Input: query text (lossy UTF-8). It is evaluated as an instant query and as a range query
// over the data. Errors (parse, type, limits, timeouts) are expected; traps are the finding.
// The limits are small so hostile queries end in errors quickly instead of using the memory
// or the time of a libFuzzer unit.
import CFuzzMain
import PromQL
import TSDB

/// 10 minutes of data at 15 s: counters, gauges with NaN, ±Inf, -0.0 and stale markers,
/// histogram buckets, a series with gaps, and one that starts late.
let head: Head = {
    let head = Head(options: HeadOptions(chunkSize: 16, stripeCount: 8))
    let app = head.appender()
    func add(_ labels: [String: String], _ value: (Int) -> Double?) {
        let l = Labels(labels)
        for step in 0...40 {
            guard let v = value(step) else { continue }
            do { _ = try app.append(l, Int64(step) * 15_000, v) } catch { fatalError("setup: \(error)") }
        }
    }
    for job in ["api", "db"] {
        for instance in ["a:9100", "b:9100"] {
            add(["__name__": "up", "job": job, "instance": instance]) { step in
                instance == "b:9100" && step >= 20 && step < 25 ? 0 : 1
            }
            for code in ["200", "500"] {
                add(["__name__": "http_requests_total", "job": job, "instance": instance, "code": code]) { step in
                    // A counter with a reset at step 30.
                    let base = Double(step * (code == "200" ? 10 : 1))
                    return step >= 30 ? base - 250 : base
                }
            }
            var cumulative = 0.0
            for le in ["0.1", "0.5", "1", "+Inf"] {
                let bucket = cumulative
                add(["__name__": "request_duration_seconds_bucket", "job": job, "instance": instance, "le": le]) { step in
                    Double(step) * 3 + bucket
                }
                cumulative += 2
            }
        }
    }
    add(["__name__": "temperature", "room": "hall"]) { step in
        switch step {
        case 5: .nan
        case 10: .infinity
        case 11: -.infinity
        case 12: -0.0
        case 20: staleMarker
        case 21...23: nil
        default: Double(step % 7) * 1.5 - 3
        }
    }
    add(["__name__": "temperature", "room": "cellar"]) { step in step % 3 == 0 ? nil : Double(step) / 10 }
    add(["__name__": "late_series", "kind": "gauge"]) { step in step >= 35 ? Double(step) : nil }
    add(["__name__": "stale_series"]) { step in step == 40 ? staleMarker : 1 }
    do { try app.commit() } catch { fatalError("setup: \(error)") }
    return head
}()

let engine: Engine = {
    var options = EngineOptions()
    options.timeout = .milliseconds(500)
    options.maxSamples = 200_000
    options.maxLabelValueBytes = 4096
    options.maxCreatedLabelBytes = 1 << 20
    return Engine(options: options)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let query = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let expr: Expr
    do { expr = try Engine.parse(query) } catch { return 0 }
    _ = try? engine.instantQuery(expr, at: 300_000, on: head)
    do {
        try Engine.checkRange(expr, start: 0, end: 600_000, step: 15_000)
        _ = try engine.rangeQuery(expr, start: 0, end: 600_000, step: 15_000, on: head)
    } catch {}
    return 0
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzPromQLEval_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
