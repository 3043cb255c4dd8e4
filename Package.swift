// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "skbdiff",
    products: [
        .library(name: "SKBuff", targets: ["SKBuff"]),
        .library(name: "SKBDiff", targets: ["SKBDiff"]),
        .library(name: "SKBLayout", targets: ["SKBLayout"]),
        .executable(name: "skbdiff", targets: ["skbdiff"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The C reference: one implementation compiled per representation and CONFIG profile.
        // It and the engine are the fuzzer's hot path, so they are optimised in debug builds too:
        // `swift run skbdiff --iterations 1000000`, a new user's first command, is a debug build.
        // (SwiftPM has no safe setting for this; the SKBuff model library stays free of unsafe
        // flags and usable as a dependency, and its @inlinable helpers are optimised in the engine.)
        // CReference/worker is the same C built for i386 by skbdiff itself (I386Worker), not here;
        // CReference/kernel is the stand-in environment of a kernel tree's code (SKBKernel builds it).
        .target(name: "CSKBuff", path: "CReference", exclude: ["worker", "kernel"], cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        // The Swift model of the 2.6.24 helpers, generic over the sk_buff_data_t representation.
        .target(name: "SKBuff"),
        // The engine: operations, executors, generator, comparator, shrinker, seed files, layouts.
        .target(
            name: "SKBDiff", dependencies: ["SKBuff", "CSKBuff"],
            swiftSettings: [
                .unsafeFlags(["-O"], .when(configuration: .debug)),
                // The model's state lives in class-held arrays; the dynamic exclusivity checks on them
                // cost more than the helpers themselves (measured with perf).
                .unsafeFlags(["-enforce-exclusivity=unchecked"]),
            ]
        ),
        // The few libclang types and function signatures the layout checker uses, declared by us:
        // a fresh machine has no clang-c headers, and libclang itself is loaded at run time.
        .target(name: "CLibClang"),
        // Header fidelity: libclang (loaded at run time) against the Swift layout engine and the C reference.
        .target(name: "SKBLayout", dependencies: ["SKBuff", "CSKBuff", "CLibClang"]),
        // `--kernel-tree`: a kernel tree's own skbuff code cut out by libclang and built into a worker.
        .target(name: "SKBKernel", dependencies: ["SKBDiff", "SKBLayout", "SKBuff"]),
        // The command line only.
        .executableTarget(
            name: "skbdiff",
            dependencies: ["SKBDiff", "SKBLayout", "SKBKernel", "CSKBuff", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "SKBuffTests", dependencies: ["SKBuff", "SKBDiff", "CSKBuff"]),
        // Goldens are read from the source tree (#filePath), not bundled.
        .testTarget(name: "SKBDiffTests", dependencies: ["SKBDiff", "SKBuff", "CSKBuff"], exclude: ["Goldens"]),
        .testTarget(name: "SKBLayoutTests", dependencies: ["SKBLayout", "SKBuff"]),
        .testTarget(name: "SKBKernelTests", dependencies: ["SKBKernel", "SKBDiff", "SKBLayout", "SKBuff"]),
    ]
)
