/// A feature hook was asked for something it cannot compute: a parameter out of range or an image
/// too small for it. (A malformed `Image` is a programmer error and traps instead.)
public struct FeatureError: Error, Sendable, Equatable, CustomStringConvertible {
    public var hook: String
    public var message: String

    public init(hook: String, message: String) {
        self.hook = hook
        self.message = message
    }

    public var description: String { "\(hook): \(message)" }
}
