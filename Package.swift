// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = []

// Image hooks: x86-64-v2 (SSE4.2, every x86 server CPU since 2009) gives the pixel loops 32-bit
// vector multiplies; phash runs ~2.5x faster than with the x86-64 baseline (docs/BENCHMARKS.md).
#if arch(x86_64)
let imagingSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "nehalem"])]
#else
let imagingSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "hfs",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hfs", targets: ["hfs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(name: "CISAL", path: "Sources/CISAL", pkgConfig: "libisal",
                       providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CBlosc", path: "Sources/CBlosc", pkgConfig: "blosc",
                       providers: [.apt(["libblosc-dev"])]),
        .target(name: "HFSCore", dependencies: [
            "CLinux",
            .product(name: "Yams", package: "Yams"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .target(name: "HFSFormat", dependencies: [
            "HFSCore", "CLZ4", "CZlib", "CISAL", "CBlosc",
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .target(name: "HFSImaging", dependencies: ["HFSCore", "CISAL", "CTurboJPEG", "CPNG"], swiftSettings: imagingSettings),
        .target(name: "HFSIngest", dependencies: ["HFSCore", "HFSImaging", "HFSClient", "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], swiftSettings: swiftSettings),
        .target(name: "HFSServer", dependencies: [
            "HFSCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .target(name: "HFSMetadata", dependencies: [
            "HFSCore",
            .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: swiftSettings),
        .target(name: "HFSNamenode", dependencies: [
            "HFSCore", "HFSMetadata", "HFSServer",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .target(name: "HFSDatanode", dependencies: [
            "HFSCore", "HFSFormat", "HFSServer", "HFSImaging",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .target(name: "HFSClient", dependencies: [
            "HFSCore", "HFSFormat",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .executableTarget(name: "hfs", dependencies: [
            "HFSCore", "HFSClient", "HFSNamenode", "HFSDatanode", "HFSIngest", "HFSImaging",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .target(name: "HFSTestSupport", path: "Tests/HFSTestSupport"),
        .testTarget(name: "HFSCoreTests", dependencies: ["HFSCore"]),
        .testTarget(name: "HFSFormatTests", dependencies: ["HFSFormat", "HFSTestSupport"]),
        .testTarget(name: "HFSMetadataTests", dependencies: ["HFSMetadata"]),
        .testTarget(name: "HFSNamenodeTests", dependencies: ["HFSNamenode", "HFSTestSupport"]),
        .testTarget(name: "HFSDatanodeTests", dependencies: ["HFSDatanode", "HFSFormat"]),
        .testTarget(name: "HFSClientTests", dependencies: ["HFSClient", "HFSFormat"]),
        .testTarget(name: "HFSImagingTests", dependencies: ["HFSImaging", "HFSTestSupport", "CZlib"]),
        .testTarget(name: "HFSIngestTests", dependencies: ["HFSIngest", "HFSImaging", "HFSTestSupport"]),
        .testTarget(name: "HFSServerTests", dependencies: [
            "HFSServer", "HFSCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "HFSCore", "HFSFormat", "HFSTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
    ]
)
