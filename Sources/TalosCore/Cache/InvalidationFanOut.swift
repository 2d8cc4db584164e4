/// Delivers every invalidation to several sinks (the verification cache and the revocation feed share one channel).
public struct InvalidationFanOut: InvalidationSink {
    let sinks: [any InvalidationSink]

    /// Delivers to `sinks`, in order.
    public init(_ sinks: [any InvalidationSink]) { self.sinks = sinks }

    /// Tells every sink.
    public func invalidated(nid: String, keyID: String) {
        for sink in sinks { sink.invalidated(nid: nid, keyID: keyID) }
    }

    /// Tells every sink.
    public func feedLost() { for sink in sinks { sink.feedLost() } }

    /// Tells every sink.
    public func feedRestored() { for sink in sinks { sink.feedRestored() } }
}
