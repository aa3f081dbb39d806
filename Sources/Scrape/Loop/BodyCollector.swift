import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Gathers a scrape response on the client's event loop and hands it over once, complete:
/// the scrape task wakes a single time per scrape instead of once per body part.
///
/// A status other than 200 or a body past the size limit fails the request as soon as it is
/// seen, without reading the rest.
final class BodyCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = (bytes: [UInt8], contentType: String)

    /// Most bytes accepted, counted after decompression (the client decompresses gzip before
    /// this delegate sees a part, one network read at a time).
    let limit: Int
    /// The cap when a scrape config's `body_size_limit` is 0, Prometheus' "no limit": a gzip
    /// body of a few megabytes can otherwise decompress to more memory than the machine has.
    public static let defaultLimit = 512 << 20
    // Touched only on the request's event loop, one callback after another.
    private var buffer: ByteBuffer?
    private var contentType = ""

    /// `limit` 0 takes `defaultLimit`.
    init(limit: Int) { self.limit = limit > 0 ? limit : BodyCollector.defaultLimit }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        guard head.status == .ok else {
            return task.eventLoop.makeFailedFuture(ScrapeLoop.ScrapeFailure(description: "server returned HTTP status \(head.status)"))
        }
        contentType = head.headers.first(name: "Content-Type") ?? ""
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ part: ByteBuffer) -> EventLoopFuture<Void> {
        var part = part
        if buffer == nil { buffer = part } else { buffer?.writeBuffer(&part) }
        if let size = buffer?.readableBytes, size > limit {
            return task.eventLoop.makeFailedFuture(ScrapeLoop.ScrapeFailure(description: "body size limit exceeded (\(limit) bytes)"))
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        (buffer.map { Array($0.readableBytesView) } ?? [], contentType)
    }
}
