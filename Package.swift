// swift-tools-version:6.0
// Periscope: a distributed visibility store for workflow engines.
// The module graph mirrors the architecture in docs/design.md; a module exists only once it
// has real content.
import PackageDescription

let package = Package(
    name: "Periscope",
    products: [
        .executable(name: "periscope", targets: ["PeriscopeCLI"]),
        .library(name: "PeriscopeStorage", targets: ["PeriscopeStorage"]),
        .library(name: "PeriscopeModel", targets: ["PeriscopeModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
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
        // Records, search attributes, namespace schemas, validation, order-preserving keys. Pure.
        .target(name: "PeriscopeModel"),
        // The `periscope` command line.
        .executableTarget(
            name: "PeriscopeCLI",
            dependencies: [
                "PeriscopeStorage",
                "PeriscopeModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "PeriscopeStorageTests", dependencies: ["PeriscopeStorage"]),
        .testTarget(name: "PeriscopeModelTests", dependencies: ["PeriscopeModel"]),
        // Runs the built `periscope` binary as a separate process (lock contention, CLI output).
        .testTarget(name: "PeriscopeCLITests", dependencies: ["PeriscopeCLI", "PeriscopeStorage"]),
    ]
)
