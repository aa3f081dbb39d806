/// Prometheus' staleness marker: a NaN with this exact bit pattern, written when a series
/// disappears from a scrape, so queries stop returning it at once rather than after the
/// lookback window. Every other NaN is an ordinary value.
public let staleMarkerBits: UInt64 = 0x7ff0_0000_0000_0002

/// The staleness marker as a value.
public let staleMarker = Double(bitPattern: staleMarkerBits)

/// Whether `v` is the staleness marker (and not another NaN).
@inlinable public func isStaleMarker(_ v: Double) -> Bool { v.bitPattern == staleMarkerBits }
