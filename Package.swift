// swift-tools-version:6.1
import PackageDescription

// The module map of docs/DESIGN.md (Sources/<Module>, Tests/<Module>Tests). Keep this list
// explicit: SwiftPM caches its reading of the manifest, so it must not depend on the file system.
let settings: [SwiftSetting] = [
    .swiftLanguageMode(.v5),
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release)),
]
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "MailLab",
    platforms: [.macOS(.v14)],
    products: [.executable(name: "maillab", targets: ["maillab"])],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .target(name: "MailCore", dependencies: [crypto], swiftSettings: settings),
        .target(name: "MailMessage", swiftSettings: settings),
        .target(name: "MailPolicy", dependencies: [
            "MailCore", "MailMessage", crypto, .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], swiftSettings: settings),
        .target(name: "MailSim", dependencies: [
            "MailCore", nioCore, crypto,
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
        ], swiftSettings: settings),
        .target(name: "MailAgents", dependencies: ["MailCore", "MailMessage", "MailPolicy", "MailSim"],
                swiftSettings: settings),
        // The tutor (content, goals, REPL, quizzes, progress) knows the world only through the
        // TutorWorld/WorldDriver seam; MailLabWorld drives the simulation behind it.
        .target(name: "MailTutor", dependencies: [
            "MailCore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: settings),
        .target(name: "MailLabWorld", dependencies: ["MailTutor", "MailCore", "MailMessage", "MailSim", "MailAgents"],
                swiftSettings: settings),
        // Each target lists what its files import, no more (docs/README.md, "Module dependencies").
        .target(name: "MailBridge", dependencies: [
            "MailCore", "MailSim", "MailAgents", nioCore,
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        ], swiftSettings: settings),
        .executableTarget(name: "maillab", dependencies: [
            "CLibEdit", "MailSim", "MailAgents", "MailTutor", "MailLabWorld", "MailBridge",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: settings),

        .testTarget(name: "MailCoreTests", dependencies: ["MailCore"], swiftSettings: settings),
        .testTarget(name: "MailMessageTests", dependencies: ["MailMessage"], swiftSettings: settings),
        .testTarget(name: "MailPolicyTests", dependencies: ["MailPolicy", "MailMessage"], swiftSettings: settings),
        .testTarget(name: "MailSimTests", dependencies: ["MailSim", "MailCore"], swiftSettings: settings),
        .testTarget(name: "MailAgentsTests", dependencies: ["MailAgents", "MailCore", "MailMessage", "MailPolicy", "MailSim"],
                    swiftSettings: settings),
        .testTarget(name: "MailTutorTests", dependencies: ["MailTutor", "MailLabWorld", "MailCore", "MailSim", "MailAgents"],
                    swiftSettings: settings),
        .testTarget(name: "MailBridgeTests", dependencies: ["MailBridge", "MailAgents", "MailCore", "MailSim"],
                    swiftSettings: settings),
        .testTarget(name: "maillabTests", dependencies: ["maillab"], swiftSettings: settings),
    ]
)
