// Per-primitive cost of each crypto backend (release build): `swift run -c release talos-crypto-bench`.
// Prints nanoseconds per operation, best of five rounds, for the primitives on Talos's hot paths.
import Foundation
import TalosCore
import TalosOpenSSL
import TalosSodium

func measure(_ iterations: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<5 {
        let start = ContinuousClock.now
        for _ in 0..<iterations { body() }
        let elapsed = ContinuousClock.now - start
        let nanos = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        best = min(best, nanos / Double(iterations))
    }
    return best
}

let backends: [any CryptoBackend] = [try OpenSSLCrypto(), try SodiumCrypto()]
let secret = Array("an-example-hmac-secret-of-32-chars!!".utf8)
let checksumMessage = Array("ory_ak_v1_QixobFgVufjZNuoYXKtn78NAqFVroyN518nRaK3WD3nxTNufzwJq9sjdrDMrcyP2_".utf8)
let importedMessage = Array("00000000-0000-0000-0000-000000000000".utf8) + [0] + Array("sk_live_abc123".utf8)
let pageToken = Array(#"{"v":1,"r":"issued","k":"792b4c1a-1a2d-430b-b733-c789a2b7b1fe","f":""}"#.utf8)
var sink = 0

print("primitive                          " + backends.map { $0.name.padding(14) }.joined())
func row(_ name: String, _ iterations: Int, _ body: (any CryptoBackend) -> () -> Void) {
    let cells = backends.map { String(format: "%.0f ns", measure(iterations, body($0))).padding(14) }
    print(name.padding(35) + cells.joined())
}
row("HMAC-SHA256 (prepared key, 75 B)", 200_000) { crypto in
    let key = crypto.hmacSHA256Key(secret)
    return { sink &+= Int(key.authenticate(checksumMessage)[0]) }
}
row("HMAC-SHA256 (one-shot, 75 B)", 100_000) { crypto in
    { sink &+= Int(crypto.hmacSHA256(key: secret, message: checksumMessage)[0]) }
}
row("SHA-512/256 (51 B)", 200_000) { crypto in { sink &+= Int(crypto.sha512_256(importedMessage)[0]) } }
row("ChaCha20-Poly1305 seal (70 B)", 100_000) { crypto in
    let key = crypto.randomBytes(32)
    let nonce = crypto.randomBytes(12)
    return { sink &+= (try? crypto.chaCha20Poly1305Seal(key: key, nonce: nonce, plaintext: pageToken))?.count ?? 0 }
}
row("ChaCha20-Poly1305 open (70 B)", 100_000) { crypto in
    let key = crypto.randomBytes(32)
    let nonce = crypto.randomBytes(12)
    let sealed = try! crypto.chaCha20Poly1305Seal(key: key, nonce: nonce, plaintext: pageToken)
    return { sink &+= (try? crypto.chaCha20Poly1305Open(key: key, nonce: nonce, sealed: sealed))??.count ?? 0 }
}
row("CSPRNG (16 B)", 200_000) { crypto in { sink &+= Int(crypto.randomBytes(16)[0]) } }
row("constant-time equality (32 B)", 1_000_000) { crypto in
    let a = crypto.randomBytes(32)
    let b = a
    return { sink &+= crypto.constantTimeEquals(a, b) ? 1 : 0 }
}
if sink == 42 { print("") }

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
