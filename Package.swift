// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric kernels target x86-64-v3 (AVX2, FMA, F16C: Haswell, Zen and later) so the
// SIMD loops get 256-bit lanes; the define turns on the fused multiply-adds and hardware f16 conversion in Quant/.
#if arch(x86_64)
let cpuFlags = ["-Xcc", "-march=x86-64-v3", "-DSTREAMPPL_X86_64_V3"]
#else
let cpuFlags: [String] = []
#endif
// Only StreamPPLKernels, pointer loops over sizes its callers have checked, drops Swift's run-time checks
// (-Ounchecked; what it buys is measured in README "Speed and memory"). Everything that reads files, text or
// settings (StreamPPL, the CLI) is built with SwiftPM's plain -O, checks on.
let kernelSettings: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"] + cpuFlags, .when(configuration: .release))]

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
        .target(name: "StreamPPLKernels", dependencies: ["CBLAS"], swiftSettings: kernelSettings),
        .target(name: "StreamPPL", dependencies: ["StreamPPLKernels", "CZlib"]),
        .executableTarget(
            name: "streamppl",
            dependencies: ["StreamPPL", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "StreamPPLTests", dependencies: ["StreamPPL", "StreamPPLKernels"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
