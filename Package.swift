// swift-tools-version:6.0
import PackageDescription

let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "streamppl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "streamppl", targets: ["streamppl"]),
        .library(name: "StreamPPL", targets: ["StreamPPL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "StreamPPL", dependencies: ["CBLAS", "CZlib"], swiftSettings: optimize),
        .executableTarget(
            name: "streamppl",
            dependencies: ["StreamPPL", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimize),
        .testTarget(name: "StreamPPLTests", dependencies: ["StreamPPL"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
