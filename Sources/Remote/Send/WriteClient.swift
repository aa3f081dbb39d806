import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Scrape

/// Posts remote write requests to one endpoint and says what the answer means for the batch.
struct WriteClient: Sendable {
    /// How a send ended.
    enum Outcome: Sendable, Equatable {
        case sent
        /// Try again after backoff (transport errors, 5xx, 429 when allowed); `retryAfter` from
        /// a 429's `Retry-After`, in milliseconds.
        case retry(reason: String, retryAfter: Int64?)
        /// Drop the batch (other statuses).
        case drop(reason: String)
    }

    let url: String
    let timeout: Int64
    let headers: [String: String]
    let http: HTTPClientSettings
    let retryOnRateLimit: Bool
    let client: HTTPClient
    let userAgent: String

    func send(_ body: [UInt8], headers extra: [(String, String)] = []) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Encoding", value: "snappy")
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: "X-Prometheus-Remote-Write-Version", value: "0.1.0")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        for (k, v) in extra { request.headers.add(name: k, value: v) }
        do {
            if let auth = try http.authorizationHeader() { request.headers.add(name: "Authorization", value: auth) }
        } catch {
            return .retry(reason: "\(error)", retryAfter: nil)
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .milliseconds(min(timeout, Self.longestTimeout)))
        } catch {
            return .retry(reason: "\(error)", retryAfter: nil)
        }
        let status = response.status.code
        // Up to 1 KiB of the answer for the log, as Prometheus reads it.
        var text = ""
        if let b = try? await response.body.collect(upTo: 1 << 20) {
            text = String(decoding: b.readableBytesView.prefix(1024), as: UTF8.self)
                .split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        }
        if (200..<300).contains(status) { return .sent }
        let reason = "server returned HTTP status \(response.status): \(text)"
        if status >= 500 { return .retry(reason: reason, retryAfter: nil) }
        if status == 429 && retryOnRateLimit {
            return .retry(reason: reason, retryAfter: Self.retryAfter(response.headers.first(name: "Retry-After")))
        }
        return .drop(reason: reason)
    }

    /// A day: NIO's timeouts count nanoseconds in an Int64, so a configured `remote_timeout` of
    /// centuries is cut here rather than overflowing.
    static let longestTimeout: Int64 = 86_400_000

    /// `Retry-After` as seconds or an HTTP date, in milliseconds from now.
    static func retryAfter(_ value: String?) -> Int64? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int64(value), seconds >= 0 { return seconds.multipliedReportingOverflow(by: 1000).overflow ? nil : seconds * 1000 }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: value) else { return nil }
        let ms = date.timeIntervalSinceNow * 1000
        return ms > 0 && ms < 86_400_000 ? Int64(ms) : nil
    }
}
