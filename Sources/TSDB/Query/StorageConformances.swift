@_exported import Storage

/// The engine's stores behind the storage protocols (Storage), for PromQL, scraping and the
/// server.
extension DB: Appendable {
    public func makeAppender() -> any Appender { appender() }
}

extension Head: Appendable {
    public func makeAppender() -> any Appender { appender() }
}

extension DB: Queryable {}
extension ReadOnlyDB: Queryable {}

extension Head: Queryable {
    public func querier(mint: Int64, maxt: Int64) -> any Querier { headQuerier(mint: mint, maxt: maxt) }
}
