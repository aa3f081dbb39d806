import Scrape
import Testing

@Suite struct RemoteConfigTests {
    @Test func readsPrometheusKeysWithTheirDefaults() throws {
        let c = try PrometheusConfig.parse("""
            remote_write:
              - url: https://mimir.example/api/v1/push
                basic_auth: {username: u, password: p}
                queue_config: {max_samples_per_send: 2000, capacity: 10000, max_shards: 30, retry_on_http_429: true}
              - url: http://vm:8428/api/v1/write
                name: vm
            remote_read:
              - url: http://thanos:10908/api/v1/read
                read_recent: true
                required_matchers: {job: old}
            """)
        #expect(c.remoteWrite.count == 2)
        let first = c.remoteWrite[0]
        #expect(first.queue.maxSamplesPerSend == 2000 && first.queue.capacity == 10000 && first.queue.maxShards == 30)
        #expect(first.queue.minShards == 1 && first.queue.batchSendDeadline == 5000 && first.queue.minBackoff == 30)
        #expect(first.queue.retryOnRateLimit && first.remoteTimeout == 30_000 && first.metadata.send)
        #expect(first.name.count == 6)
        #expect(c.remoteWrite[1].name == "vm")
        #expect(c.remoteRead.first?.readRecent == true && c.remoteRead.first?.requiredMatchers == ["job": "old"])
        // The default name depends on what decides the data, not on tuning.
        let tuned = try PrometheusConfig.parse("""
            remote_write:
              - url: https://mimir.example/api/v1/push
                queue_config: {max_shards: 5}
            """)
        let plain = try PrometheusConfig.parse("remote_write: [{url: 'https://mimir.example/api/v1/push'}]")
        #expect(tuned.remoteWrite[0].name == plain.remoteWrite[0].name)
        #expect(tuned.remoteWrite[0].identity != plain.remoteWrite[0].identity)
    }

    @Test func refusesWhatPrometheusRefusesAndBoundsItDoesNotCheck() {
        let bad: [(String, String)] = [
            ("remote_write: [{url: 'http://a/w', headers: {Authorization: x}}]", "reserved header"),
            ("remote_write: [{url: 'ftp://a/w'}]", "invalid URL"),
            ("remote_write: [{name: x}]", "url for remote_write is empty"),
            ("remote_write: [{url: 'http://a/w', queue_config: {min_shards: 5, max_shards: 2}}]", "min_shards"),
            ("remote_write: [{url: 'http://a/w', queue_config: {max_samples_per_send: 0}}]", "max_samples_per_send"),
            ("remote_write: [{url: 'http://a/w', queue_config: {capacity: 10, max_samples_per_send: 100}}]", "capacity"),
            ("remote_write: [{url: 'http://a/w', queue_config: {min_backoff: 10s, max_backoff: 1s}}]", "min_backoff"),
            ("remote_write: [{url: 'http://a/w', name: q}, {url: 'http://b/w', name: q}]", "multiple remote write"),
            ("remote_write: [{url: 'http://a/w', sigv4: {}}]", "not supported"),
            ("remote_write: [{url: 'http://a/w', queue_config: {shards: 2}}]", "field shards not found"),
        ]
        for (yaml, message) in bad {
            #expect(throws: ConfigError.self, "\(yaml)") { try PrometheusConfig.parse(yaml) }
            do { _ = try PrometheusConfig.parse(yaml) } catch { #expect(error.description.contains(message), "\(error)") }
        }
    }
}
