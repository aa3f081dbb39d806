/// A reference to one series, unique within the store that issued it (a TSDB head keeps it
/// through WAL replay). A ref from one appender stays valid for later appenders of the same
/// `Appendable` until the store drops the series (`AppendError.unknownSeriesRef`).
public typealias SeriesRef = UInt64
