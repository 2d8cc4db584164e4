/// A value that holds secrets (HMAC secrets, private JWKs, database passwords, credentials) and so must never
/// describe its contents: `"\(value)"`, `String(reflecting:)`, `dump` and a library's log line of it (a
/// `Service`'s description at debug level, a configuration dump) all print `TypeName([redacted])`.
///
/// The empty `customMirror` matters as much as the descriptions: without it `dump(value)`, and the default
/// description of any struct that *holds* such a value, would walk the stored properties one by one.
/// Spec: §16.11.
public protocol RedactedDescription: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {}

extension RedactedDescription {
    public var description: String { "\(Self.self)([redacted])" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
