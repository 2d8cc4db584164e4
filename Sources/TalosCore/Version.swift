/// The version of this build, reported by `GET /version` and `talos version`.
public enum TalosVersion {
    /// The semantic version of this build (`MAJOR.MINOR.PATCH`), as served in `{"version":"…"}` and logged at startup.
    public static let current = "0.1.0"
}
