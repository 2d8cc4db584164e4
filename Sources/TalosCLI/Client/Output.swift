import ArgumentParser
import TalosClient
import TalosCore

/// `--format` (spec §10.1).
enum OutputFormat: ExpressibleByArgument, Equatable {
    case table, json, jsonPretty, yaml
    case jsonPath(String)
    case jsonPointer(String)

    init?(argument: String) {
        switch argument {
        case "table": self = .table
        case "json": self = .json
        case "json-pretty": self = .jsonPretty
        case "yaml": self = .yaml
        default:
            if argument.hasPrefix("jsonpath=") {
                self = .jsonPath(String(argument.dropFirst("jsonpath=".count)))
            } else if argument.hasPrefix("jsonpointer=") {
                self = .jsonPointer(String(argument.dropFirst("jsonpointer=".count)))
            } else {
                return nil
            }
        }
    }
}

/// Prints an API response in the requested format; `table` rows come from the caller.
struct Printer {
    let format: OutputFormat

    /// Prints `response` (or `value` when given) in a machine format, or the table rows.
    func emit(_ response: APIResponse, value: JSONValue? = nil, table: () -> [(String, String)]) throws {
        try emit(value ?? response.body, raw: value == nil ? response.rawBody : nil, table: table)
    }

    /// Prints `document` in a machine format (`raw`, when given, as the compact JSON), or the table rows.
    func emit(_ document: JSONValue, raw: [UInt8]? = nil, table: () -> [(String, String)]) throws {
        switch format {
        case .table:
            printTable(table())
        case .json:
            print(raw.map { String(decoding: $0, as: UTF8.self) } ?? document.compactString)
        case .jsonPretty:
            print(document.prettyString(indent: 2))
        case .yaml:
            print(YAML.render(document), terminator: "")
        case .jsonPointer(let pointer):
            guard let found = JSONPointer.resolve(pointer, in: document) else {
                throw CommandFailure.failed("Error: jsonpointer \(pointer) matches nothing")
            }
            printScalarOrJSON(found)
        case .jsonPath(let path):
            guard let found = JSONPointer.resolve(jsonPath: path, in: document) else {
                throw CommandFailure.failed("Error: jsonpath \(path) matches nothing")
            }
            printScalarOrJSON(found)
        }
    }

    private func printScalarOrJSON(_ value: JSONValue) {
        switch value {
        case .string(let text): print(text)
        case .array, .object: print(value.compactString)
        default: print(value.compactString)
        }
    }

    func printTable(_ rows: [(String, String)]) {
        let width = rows.map(\.0.count).max() ?? 0
        for (field, value) in rows {
            print(field + String(repeating: " ", count: width - field.count + 2) + value)
        }
    }
}

/// RFC 6901 pointers and the `{.a.b}` subset of kubectl-style JSONPath.
enum JSONPointer {
    static func resolve(_ pointer: String, in document: JSONValue) -> JSONValue? {
        guard !pointer.isEmpty else { return document }
        guard pointer.hasPrefix("/") else { return nil }
        var current = document
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = String(raw).replacing("~1", with: "/").replacing("~0", with: "~")
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(token), array.indices.contains(index) else { return nil }
                current = array[index]
            default: return nil
            }
        }
        return current
    }

    static func resolve(jsonPath: String, in document: JSONValue) -> JSONValue? {
        var path = Substring(jsonPath)
        if path.hasPrefix("{"), path.hasSuffix("}") { path = path.dropFirst().dropLast() }
        if path.hasPrefix("$") { path = path.dropFirst() }
        var pointer = ""
        for part in path.split(separator: ".") {
            var name = part
            var indexes: [String] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]") {
                indexes.insert(String(name[name.index(after: open)...].dropLast()), at: 0)
                name = name[..<open]
            }
            if !name.isEmpty { pointer += "/" + name }
            for index in indexes { pointer += "/" + index }
        }
        return resolve(pointer, in: document)
    }
}

/// Block-style YAML for JSON documents (strings always quoted as JSON strings, which YAML accepts).
enum YAML {
    static func render(_ value: JSONValue, indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let object) where !object.isEmpty:
            return object.map { key, value in
                let name = pad + JSONValue.string(key).compactString + ":"
                if case .object(let inner) = value, !inner.isEmpty {
                    return name + "\n" + render(value, indent: indent + 2)
                }
                if case .array(let inner) = value, !inner.isEmpty { return name + "\n" + render(value, indent: indent) }
                return name + " " + value.compactString + "\n"
            }.joined()
        case .array(let array) where !array.isEmpty:
            return array.map { item in
                switch item {
                case .object(let inner) where !inner.isEmpty:
                    let body = render(item, indent: indent + 2)
                    return pad + "- " + body.dropFirst(indent + 2)
                default: return pad + "- " + item.compactString + "\n"
                }
            }.joined()
        default:
            return pad + value.compactString + "\n"
        }
    }
}
