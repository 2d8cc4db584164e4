public import TalosCore
import TalosOpenSSL
import TalosPostgres
import TalosSQLite
import TalosSodium

extension BackendRegistry {
    /// Every backend compiled into this build: the one list a new backend is added to.
    public static let builtIn = BackendRegistry(
        storage: [.sqlite, .postgres],
        crypto: [.openssl, .libsodium]
    )
}
