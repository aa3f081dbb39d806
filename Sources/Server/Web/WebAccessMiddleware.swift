import Foundation
import HummingbirdBcrypt
import Hummingbird
import HTTPTypes
import TSDB

/// Basic auth and extra headers from the web configuration, in front of every endpoint (as
/// Prometheus puts them in front of its whole web server).
///
/// bcrypt is slow on purpose (tens of milliseconds at cost 10), so checks run on worker
/// threads, not the executor, and a verified user and password is remembered (at most
/// `cacheLimit` pairs, as exporter-toolkit caches them): a dashboard's many requests cost one
/// bcrypt. An unknown user is checked against a dummy hash, so timing does not tell which
/// users exist. The server's own scrape of `/metrics` presents a bearer token made at start
/// and known only to the process.
struct WebAccessMiddleware: RouterMiddleware {
    let users: [String: String]
    let headers: [String: String]
    let selfToken: String
    let verified: VerifiedCredentials
    let threads: WorkerThreads

    static let cacheLimit = 1024
    /// bcrypt of a random string: what an unknown user's password is checked against.
    static let dummyHash = Bcrypt.hash(UUID().uuidString, cost: 10)

    func handle(_ request: Request, context: BasicRequestContext,
                next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        let allowed = users.isEmpty ? true : await authorized(request)
        guard allowed else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Basic", .contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "Unauthorized\n")))
        }
        var response = try await next(request, context)
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        return response
    }

    func authorized(_ request: Request) async -> Bool {
        guard let header = request.headers[.authorization] else { return false }
        if header.hasPrefix("Bearer ") {
            return constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(selfToken.utf8))
        }
        guard header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst(6))),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return false }
        let user = String(text[..<colon]), password = String(text[text.index(after: colon)...])
        let hash = users[user]
        let key = user + "\u{0}" + password
        if hash != nil, verified.contains(key) { return true }
        let ok = await threads.run { Bcrypt.verify(password, hash: hash ?? WebAccessMiddleware.dummyHash) } && hash != nil
        if ok { verified.insert(key, limit: Self.cacheLimit) }
        return ok
    }

    func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

/// User and password pairs bcrypt has accepted, bounded: emptied when full.
final class VerifiedCredentials: Sendable {
    private let pairs = Locked<Set<String>>([])

    func contains(_ key: String) -> Bool { pairs.withLock { $0.contains(key) } }

    func insert(_ key: String, limit: Int) {
        pairs.withLock {
            if $0.count >= limit { $0.removeAll() }
            $0.insert(key)
        }
    }
}
