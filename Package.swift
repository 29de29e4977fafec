// swift-tools-version:6.0
// Periscope: a distributed visibility store for workflow engines.
// The module graph mirrors the architecture in docs/design.md; a module exists only once it
// has real content.
import PackageDescription

let package = Package(
    name: "Periscope",
    products: [
        .executable(name: "periscope", targets: ["PeriscopeCLI"]),
        .executable(name: "periscope-chaos", targets: ["PeriscopeChaosHarness"]),
        .library(name: "PeriscopeStorage", targets: ["PeriscopeStorage"]),
        .library(name: "PeriscopeModel", targets: ["PeriscopeModel"]),
        .library(name: "PeriscopeQuery", targets: ["PeriscopeQuery"]),
        .library(name: "PeriscopeRaft", targets: ["PeriscopeRaft"]),
        .library(name: "PeriscopeShard", targets: ["PeriscopeShard"]),
        .library(name: "PeriscopeNode", targets: ["PeriscopeNode"]),
        .library(name: "PeriscopeClient", targets: ["PeriscopeClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // RocksDB's C API, as Debian's librocksdb-dev installs it. Only PeriscopeStorage imports it.
        .systemLibrary(
            name: "CRocksDB",
            pkgConfig: "rocksdb",
            providers: [.apt(["librocksdb-dev"])]
        ),
        // RocksDB made safe: owned handles, Swift errors, sequences, the blocking executor.
        .target(
            name: "PeriscopeStorage",
            dependencies: [
                "CRocksDB",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // libnghttp2's C API, as Debian's libnghttp2-dev installs it. Only PeriscopeHTTP2 imports it.
        .systemLibrary(
            name: "CNGHTTP2",
            pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]
        ),
        // HTTP/2 connections on SwiftNIO with nghttp2 doing framing, HPACK, flow control and
        // stream state; h2c with prior knowledge or TLS with ALPN h2. Server and client roles.
        .target(
            name: "PeriscopeHTTP2",
            dependencies: [
                "CNGHTTP2",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // gRPC-compatible RPC (and protobuf JSON) over PeriscopeHTTP2: server router, client calls.
        .target(
            name: "PeriscopeRPC",
            dependencies: [
                "PeriscopeHTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Periscope's API: messages generated from proto/ (committed; `make proto` regenerates),
        // method descriptors, the services every node serves (health, diagnostics), and
        // records to and from their messages (`RecordWire`).
        .target(
            name: "PeriscopeAPI",
            dependencies: [
                "PeriscopeRPC",
                "PeriscopeModel",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["proto"]
        ),
        // Records, search attributes, namespace schemas, validation, order-preserving keys. Pure.
        .target(name: "PeriscopeModel", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Temporal's List Filter: lexer, parser, validation against a namespace schema, the
        // normalized plan, its printer, and the in-memory evaluator (the oracle). Pure.
        .target(name: "PeriscopeQuery", dependencies: ["PeriscopeModel"]),
        // Raft as a deterministic state machine: events in, Ready out, no I/O, no clock. Pure.
        .target(name: "PeriscopeRaft"),
        // The node's Raft log store: the logs and hard states of all its groups in one
        // RocksDB, written by group commit (one WriteBatch, one fsync per batch of Readies).
        .target(name: "PeriscopeRaftLog", dependencies: ["PeriscopeRaft", "PeriscopeStorage"]),
        // A seeded whole-cluster simulator: Raft cores, a faulty network, crashes, restarts,
        // membership changes and transfers in one process; invariants checked as it runs.
        .target(name: "PeriscopeRaftSimulator", dependencies: ["PeriscopeRaft", "PeriscopeRaftLog", "PeriscopeStorage"]),
        // One shard replica's engine: committed commands applied to versioned records, the
        // asynchronous inverted, value and time-partitioned indexes, retention, verification.
        .target(
            name: "PeriscopeShard",
            dependencies: ["PeriscopeModel", "PeriscopeQuery", "PeriscopeStorage", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // A node: shard replicas and the namespace catalog as Raft groups driven by one
        // group-committing loop, the visibility and admin services over HTTP/2, metrics,
        // health, and the lifecycle that drains on SIGTERM.
        .target(
            name: "PeriscopeNode",
            dependencies: [
                "PeriscopeRaft", "PeriscopeRaftLog", "PeriscopeShard", "PeriscopeStorage", "PeriscopeModel", "PeriscopeQuery",
                "PeriscopeRPC", "PeriscopeAPI", "PeriscopeHTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The library a workflow engine's server embeds: async calls to every service method,
        // one connection per node, retries where safe, pages as an AsyncSequence, typed errors.
        .target(
            name: "PeriscopeClient",
            dependencies: [
                "PeriscopeRPC", "PeriscopeAPI", "PeriscopeHTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // libpq, PostgreSQL's C client, as Debian's libpq-dev installs it. Only PeriscopePostgres imports it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // libpq made safe: owned connections, Swift errors with SQLSTATE, COPY streaming and the
        // replication protocol's COPY BOTH stream (logical decoding). Blocking; callers use threads.
        .target(name: "PeriscopePostgres", dependencies: ["CLibPQ"]),
        // Moving a live Temporal PostgreSQL visibility store into Periscope: the source's schema
        // and rows, Temporal's statements and a writer that uses them, pgoutput decoding.
        .target(
            name: "PeriscopeMigration",
            dependencies: [
                "PeriscopePostgres", "PeriscopeModel", "PeriscopeQuery", "PeriscopeRaft", "PeriscopeAPI", "PeriscopeClient",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The `periscope` command line.
        .executableTarget(
            name: "PeriscopeCLI",
            dependencies: [
                "PeriscopeStorage",
                "PeriscopeModel",
                "PeriscopeQuery",
                "PeriscopeHTTP2",
                "PeriscopeRPC",
                "PeriscopeAPI",
                "PeriscopeRaft",
                "PeriscopeRaftLog",
                "PeriscopeRaftSimulator",
                "PeriscopeShard",
                "PeriscopeNode",
                "PeriscopeClient",
                "PeriscopeMigration",
                "PeriscopePostgres",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .testTarget(name: "PeriscopeStorageTests", dependencies: ["PeriscopeStorage"]),
        .testTarget(name: "PeriscopeModelTests", dependencies: ["PeriscopeModel", "PeriscopeTestSupport"]),
        .testTarget(
            name: "PeriscopeQueryTests",
            dependencies: ["PeriscopeQuery", "PeriscopeModel", "PeriscopeTestSupport"],
            exclude: ["Conformance/query_corpus.jsonl", "Conformance/fixtures.json"]
        ),
        // The chaos harness's pure core: fault schedules, kernel rules, histories, checkers.
        .target(name: "PeriscopeChaos", dependencies: ["PeriscopeRaft"], path: "chaos/Sources/PeriscopeChaos"),
        // `periscope-chaos`, the harness's shell: launches a region of node processes, applies
        // the schedule (nftables, tc, signals), drives the workload through PeriscopeClient,
        // runs the checkers and writes the report.
        .executableTarget(
            name: "PeriscopeChaosHarness",
            dependencies: [
                "PeriscopeChaos", "PeriscopeClient", "PeriscopeAPI", "PeriscopeModel", "PeriscopeRaft",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "chaos/Sources/PeriscopeChaosHarness"
        ),
        // Helpers the test targets share (external clients, seeded randomness); in no product.
        .target(
            name: "PeriscopeTestSupport",
            dependencies: ["PeriscopeHTTP2", "PeriscopeRaft", "PeriscopeModel", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(name: "PeriscopeHTTP2Tests", dependencies: ["PeriscopeHTTP2", "PeriscopeTestSupport"]),
        .testTarget(name: "PeriscopeChaosTests", dependencies: ["PeriscopeChaos", "PeriscopeTestSupport"]),
        .testTarget(name: "PeriscopeMigrationTests", dependencies: ["PeriscopeMigration", "PeriscopePostgres", "PeriscopeModel", "PeriscopeTestSupport"]),
        .testTarget(
            name: "PeriscopeRPCTests",
            dependencies: ["PeriscopeRPC", "PeriscopeAPI", "PeriscopeHTTP2", "PeriscopeTestSupport"]
        ),
        .testTarget(
            name: "PeriscopeRaftTests",
            dependencies: ["PeriscopeRaft", "PeriscopeRaftLog", "PeriscopeRaftSimulator", "PeriscopeStorage", "PeriscopeTestSupport"]
        ),
        .testTarget(
            name: "PeriscopeShardTests",
            dependencies: ["PeriscopeShard", "PeriscopeModel", "PeriscopeQuery", "PeriscopeStorage", "PeriscopeTestSupport"]
        ),
        .testTarget(
            name: "PeriscopeNodeTests",
            dependencies: ["PeriscopeNode", "PeriscopeShard", "PeriscopeRaftLog", "PeriscopeModel", "PeriscopeTestSupport"]
        ),
        // Runs the built `periscope` binary as a separate process (lock contention, CLI output).
        .testTarget(
            name: "PeriscopeCLITests",
            dependencies: ["PeriscopeCLI", "PeriscopeStorage", "PeriscopeTestSupport", "PeriscopeClient", "PeriscopeNode", "PeriscopeAPI",
                           "PeriscopeModel", "PeriscopeQuery", "PeriscopeRPC", .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
    ]
)
