import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore
import TalosPlugins

/// `talos jwk …` (spec §10.4).
struct Jwk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate signing keys and show the server's JWKS.",
        subcommands: [JwkGenerate.self, JwkGet.self]
    )
}

/// `talos jwk generate eddsa|rsa|hmac`: prints a private JWKS (or `base64://…` with `--base64`).
struct JwkGenerate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate a private JWKS.")

    @Argument(help: "eddsa, rsa or hmac (only eddsa and rsa keys can sign derived tokens).")
    var kind: String

    @Option(help: "Key id (default: a random UUID).")
    var kid: String?

    @Option(help: "JWK use.")
    var use: String = "sig"

    @Option(help: "RSA modulus size: 2048, 3072 or 4096.")
    var bits: Int = 4096

    @Flag(help: "Print base64://<JWKS>, ready for credentials.derived_tokens.jwt.signing_keys.urls.")
    var base64 = false

    func run() async throws {
        let crypto = try BackendRegistry.builtIn.cryptoProvider(named: "openssl").make()
        let kid = self.kid ?? crypto.randomUUID()
        let jwks: JSONValue
        switch kind.lowercased() {
        case "eddsa": jwks = try JWKGenerator.generate(.eddsa, kid: kid, use: use, crypto: crypto)
        case "rsa":
            guard [2048, 3072, 4096].contains(bits) else {
                throw CommandFailure.usage("Error: --bits must be 2048, 3072 or 4096")
            }
            jwks = try JWKGenerator.generate(.rsa, kid: kid, use: use, bits: bits, crypto: crypto)
        case "hmac":
            jwks = [
                "keys": [
                    [
                        "kty": "oct", "kid": .string(kid), "use": .string(use), "alg": "HS256",
                        "k": .string(Base64URL.encode(crypto.randomBytes(32))),
                    ]
                ]
            ]
        case "ecdsa":
            throw CommandFailure.usage(
                "Error: ecdsa keys are not supported by this build (they cannot sign derived tokens)"
            )
        default:
            throw CommandFailure.usage("Error: kind must be eddsa, rsa or hmac")
        }
        print(base64 ? JWKGenerator.url(jwks) : jwks.compactString)
    }
}

/// `talos jwk get`: the server's public JWKS.
struct JwkGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print the server's public JWKS.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let response = try await client.client.call(.GET, "/v2alpha1/derivedKeys/jwks.json")
        let printer = Printer(format: client.format == .table ? .jsonPretty : client.format)
        try printer.emit(response, value: response.body["jwks"]) { [] }
    }
}
