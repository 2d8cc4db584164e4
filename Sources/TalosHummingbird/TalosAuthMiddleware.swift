import HTTPTypes
public import Hummingbird
public import HummingbirdAuth
import NIOCore
import TalosCore

/// Requires a credential Talos vouches for, and puts its `TalosIdentity` in the request context.
///
/// The credential is read from the configured header, else from `Authorization: Bearer …`. No credential, or one
/// that is not valid, is answered 401 in Talos's error envelope; the route's handler never runs.
public struct TalosAuthMiddleware<Context: AuthRequestContext>: RouterMiddleware
where Context.Identity == TalosIdentity {
    let authenticator: TalosAuthenticator
    let credentialHeader: HTTPField.Name?

    init(authenticator: TalosAuthenticator) {
        self.authenticator = authenticator
        self.credentialHeader = authenticator.configuration.credentialHeader.flatMap { HTTPField.Name($0) }
    }

    /// Authenticates the request, then passes it on with the identity in its context.
    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let credential = credential(in: request.headers) else {
            throw TalosAuthError(.credentialRequired, "A credential is required.")
        }
        var context = context
        context.identity = try await authenticator.authenticate(credential, clientAddress: clientAddress(of: context))
        return try await next(request, context)
    }

    /// The configured header's value, else the token of `Authorization: Bearer` (scheme case-insensitive).
    func credential(in headers: HTTPFields) -> String? {
        if let credentialHeader, let value = headers[credentialHeader]?.trimmingSpaces, !value.isEmpty {
            return value
        }
        guard let authorization = headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = String(parts[1]).trimmingSpaces
        return token.isEmpty ? nil : token
    }

    /// The TCP peer when the context knows it (`RemoteAddressRequestContext`); derived JWTs with an `acl` need it.
    func clientAddress(of context: Context) -> IPAddress? {
        guard let address = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress else {
            return nil
        }
        return IPAddress(address)
    }
}

/// Refuses, with 403 in Talos's error envelope, a request whose identity lacks any of `scopes`.
///
/// Scopes are compared as exact strings: Talos does no wildcard matching, so `read:*` is a scope of its own.
public struct RequireScopes<Context: AuthRequestContext>: RouterMiddleware where Context.Identity == TalosIdentity {
    /// Every scope the identity must hold.
    public let scopes: [String]

    /// A guard requiring every one of `scopes`.
    public init(_ scopes: [String]) { self.scopes = scopes }

    /// Passes the request on when its identity has every required scope.
    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let identity = context.identity else {
            throw TalosAuthError(.credentialRequired, "A credential is required.")
        }
        if let missing = identity.missingScope(of: scopes) {
            throw TalosAuthError(
                .scopeRequired,
                "The credential lacks the scope \"\(missing)\".",
                metadata: ["scope": missing]
            )
        }
        return try await next(request, context)
    }
}

extension TalosAuthenticator {
    /// The middleware that authenticates every request of the routes added after it.
    public func middleware<Context: AuthRequestContext>(
        context: Context.Type = Context.self
    ) -> TalosAuthMiddleware<Context> where Context.Identity == TalosIdentity {
        TalosAuthMiddleware(authenticator: self)
    }
}

extension RouterMethods where Context: AuthRequestContext, Context.Identity == TalosIdentity {
    /// Requires every one of `scopes` on the routes added after this call: `router.group("orders")
    /// .requireScopes("read:*")`. Put it after the `TalosAuthenticator`'s middleware.
    @discardableResult
    public func requireScopes(_ scopes: String...) -> Self {
        add(middleware: RequireScopes<Context>(scopes))
    }
}
