import NIOCore
import NIOSSL

/// TLS for HTTP/2 connections: TLS 1.2+ with ALPN `h2` (RFC 9113 §3.2). Without it,
/// connections are h2c with prior knowledge.
public enum HTTP2TLS {
    /// A server's certificate chain and key, as PEM files.
    public struct Server: Sendable {
        public var certificateChainPath: String
        public var privateKeyPath: String

        public init(certificateChainPath: String, privateKeyPath: String) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
        }

        func makeContext() throws -> NIOSSLContext {
            let chain = try NIOSSLCertificate.fromPEMFile(certificateChainPath).map { NIOSSLCertificateSource.certificate($0) }
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)))
            configuration.applicationProtocols = ["h2"]
            configuration.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: configuration)
        }
    }

    /// How a client verifies the server.
    public struct Client: Sendable {
        public enum Trust: Sendable {
            /// The system's CA bundle.
            case system
            /// CA certificates from a PEM file (a private CA, or a self-signed server certificate).
            case certificates(pemPath: String)
        }

        public var trust: Trust
        /// The name checked against the server certificate and sent as SNI.
        public var serverHostname: String?

        public init(trust: Trust = .system, serverHostname: String? = nil) {
            self.trust = trust
            self.serverHostname = serverHostname
        }

        func makeContext() throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.applicationProtocols = ["h2"]
            configuration.minimumTLSVersion = .tlsv12
            if case .certificates(let path) = trust {
                configuration.trustRoots = .file(path)
            }
            return try NIOSSLContext(configuration: configuration)
        }
    }
}
