/// The version of this build, reported by `GET /version` and `talos version`.
public enum TalosVersion {
    public static let current = "0.1.0"
}
