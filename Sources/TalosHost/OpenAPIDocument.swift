import TalosCore

/// The OpenAPI 3.1 contract of the API listener (spec §15.11), served at `GET /openapi.json`.
///
/// `Resources/openapi.json` is the one source: it is compiled into the binary, and every operation carries
/// `x-talos-surface` (`admin`, `public` or `always`, like the route table), by which the document is narrowed to
/// what a server mode serves. `OpenAPIDocumentTests` proves that its operations and the route table are the same set.
enum OpenAPIDocument {
    static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// The document as shipped.
    static let full: JSONObject = {
        guard case .object(let document) = try? JSONValue.parse(PackageResources.openapi_json) else {
            preconditionFailure("Resources/openapi.json is not a JSON object")
        }
        return document
    }()

    /// The serialized document of the operations `mode` serves: the same bytes on every call.
    static func serialized(for mode: ServerMode) -> [UInt8] {
        var document = full
        var paths = JSONObject()
        for (path, item) in full["paths"]?.objectValue ?? [:] {
            guard var operations = item.objectValue else { continue }
            for method in methods {
                guard let surface = operations[method]?["x-talos-surface"]?.stringValue else { continue }
                if !mode.serves(Surface(documentName: surface)) { operations[method] = nil }
            }
            if methods.contains(where: { operations[$0] != nil }) { paths[path] = .object(operations) }
        }
        document["paths"] = .object(paths)
        return JSONValue.object(document).serialized()
    }

    /// Every (method, path template, surface, admin permission) the document describes.
    static var operations: [(method: String, path: String, surface: String, permission: String?)] {
        (full["paths"]?.objectValue ?? [:]).flatMap { path, item in
            methods.compactMap { method in
                item[method]?["x-talos-surface"]?.stringValue.map {
                    (method.uppercased(), path, $0, item[method]?["x-talos-permission"]?.stringValue)
                }
            }
        }
    }
}

extension Surface {
    /// `admin`, `public`; anything else is served in every mode.
    init(documentName: String) {
        switch documentName {
        case "admin": self = .admin
        case "public": self = .public
        default: self = .always
        }
    }

    /// The name `x-talos-surface` uses.
    var documentName: String {
        switch self {
        case .admin: "admin"
        case .public: "public"
        case .always: "always"
        }
    }
}
