public import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the TCP peer address.
public struct TalosRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer's IP address, when the channel has one.
    public let remoteIP: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }
}
