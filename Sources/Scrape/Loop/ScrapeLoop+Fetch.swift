import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A scrape's request: headers as Prometheus sends them, credentials read per scrape, the
/// body collected whole (and held to the body size limit, decompressed).
extension ScrapeLoop {
    /// What a scrape accepts, OpenMetrics first, as Prometheus asks.
    static let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    /// A scrape's request under way.
    struct Request {
        /// The whole body, completed on the event loop the request was started for.
        let response: EventLoopFuture<BodyCollector.Response>
        let task: HTTPClient.Task<BodyCollector.Response>?

        func cancel() { task?.cancel() }
    }

    /// Starts the request for a scrape; its body arrives whole, on `eventLoop`.
    func fetch(on eventLoop: any EventLoop) -> Request {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: Self.accept)
        headers.add(name: "Accept-Encoding", value: "gzip")
        headers.add(name: "User-Agent", value: "Sextant/0.1")
        do {
            if let auth = try target.credentials.header() { headers.add(name: "Authorization", value: auth) }
        } catch {
            return Request(response: eventLoop.makeFailedFuture(error), task: nil)
        }
        headers.add(name: "X-Prometheus-Scrape-Timeout-Seconds", value: String(Double(target.timeout) / 1000))
        let request: HTTPClient.Request
        // Addressed under tls_config.server_name, the Host header still names the target.
        if target.serverNameOverride != nil, let authority = URLComponents(string: target.url).map(Self.authority) {
            headers.replaceOrAdd(name: "Host", value: authority)
        }
        do { request = try HTTPClient.Request(url: target.requestURL, method: .GET, headers: headers) } catch {
            return Request(response: eventLoop.makeFailedFuture(error), task: nil)
        }
        let task = client.execute(request: request, delegate: BodyCollector(limit: target.bodySizeLimit),
                                  eventLoop: .delegateAndChannel(on: eventLoop),
                                  deadline: .now() + .milliseconds(target.timeout))
        return Request(response: task.futureResult, task: task)
    }

    /// `host[:port]` of a URL, as a Host header gives it.
    static func authority(_ c: URLComponents) -> String {
        let host = c.percentEncodedHost ?? ""
        return c.port.map { "\(host):\($0)" } ?? host
    }
}
