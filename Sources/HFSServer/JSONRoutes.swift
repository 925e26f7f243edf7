import Foundation
import HFSCore
import Hummingbird
import NIOCore
import NIOPosix
import NIOFoundationCompat

/// Hummingbird glue shared by the namenode and the datanodes: JSON bodies in and out, and one
/// place that turns a thrown error into a status code plus an ``ErrorBody``.
public enum JSONRoutes {
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    public static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    public static func errorResponse(_ error: any Error) -> Response {
        let e = hfsError(error)
        let body = (try? encoder.encode(ErrorBody(error: e))) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: e.httpStatus), headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    public static func hfsError(_ error: any Error) -> HFSError {
        if let e = error as? HFSError { return e }
        if error is DecodingError { return HFSError(.invalidArgument, "malformed request body: \(error)".replacingOccurrences(of: "\n", with: " ")) }
        return HFSError(.internal, "\(error)".replacingOccurrences(of: "\n", with: " "))
    }

    /// Reads a whole JSON request body, bounded by ``Limits/controlBodyBytesMax``.
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: Limits.controlBodyBytesMax) } catch {
            throw HFSError.invalid("request body larger than \(Limits.controlBodyBytesMax) bytes")
        }
        do { return try JSONDecoder().decode(T.self, from: buffer) } catch {
            throw HFSError.invalid("malformed \(T.self): \(error)".replacingOccurrences(of: "\n", with: " "))
        }
    }

    public static func query(_ request: Request, _ name: String) throws -> String {
        guard let v = request.uri.queryParameters.get(name) else { throw HFSError.invalid("missing query parameter '\(name)'") }
        return v
    }
}

extension RouterMethods {
    /// A route whose handler returns an Encodable value as JSON; errors become JSON error bodies.
    @discardableResult
    public func json<T: Encodable & Sendable>(_ method: HTTPRequest.Method, _ path: RouterPath,
                                              _ handler: @escaping @Sendable (Request, Context) async throws -> T) -> Self {
        on(path, method: method) { request, context -> Response in
            do { return try JSONRoutes.response(try await handler(request, context)) } catch {
                return JSONRoutes.errorResponse(error)
            }
        }
    }
}

/// Runs blocking work (SQLite, fsync) off the cooperative pool.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}

/// Empty JSON answer `{}`.
public struct OK: Codable, Sendable { public init() {} }
