// swift-tools-version:5.4
import PackageDescription

// libFuzzer targets for streamppl's input parsers, kept out of the main package: each has no `main` (libFuzzer
// supplies it), so it only links when built with -sanitize=fuzzer. Build and run with scripts/fuzz.sh (Fuzz/README.md).
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM links a Linux executable with `--defsym main=<Module>_main`
// (so tests can link executables), which points main away from libFuzzer's.
let package = Package(
    name: "streamppl-fuzz",
    platforms: [.macOS("13.0")],
    dependencies: [.package(name: "streamppl", path: "..")],
    targets: [
        .executableTarget(name: "FuzzGGUF", dependencies: [.product(name: "StreamPPL", package: "streamppl")]),
        .executableTarget(name: "FuzzSettings", dependencies: [.product(name: "StreamPPL", package: "streamppl")]),
    ],
    swiftLanguageVersions: [.v5]
)
