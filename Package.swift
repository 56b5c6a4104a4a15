// swift-tools-version:6.1
import Foundation
import PackageDescription

// A module joins the package when its first real source file arrives: targets whose folder holds
// no Swift file yet are left out, and so are dependencies on them.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

func hasSources(_ folder: String) -> Bool {
    guard let walker = FileManager.default.enumerator(atPath: root + "/" + folder) else { return false }
    for case let path as String in walker where path.hasSuffix(".swift") { return true }
    return false
}

let nio: [Target.Dependency] = [.product(name: "NIOCore", package: "swift-nio")]
let moduleDeps: [(name: String, internal: [String], external: [Target.Dependency])] = [
    ("MailCore", [], [.product(name: "Crypto", package: "swift-crypto")]),
    ("MailMessage", ["MailCore"], []),
    ("MailPolicy", ["MailMessage"], [
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "_CryptoExtras", package: "swift-crypto"),
    ]),
    ("MailSim", ["MailCore"], nio + [
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "Crypto", package: "swift-crypto"),
    ]),
    ("MailAgents", ["MailCore", "MailMessage", "MailPolicy", "MailSim"], []),
    ("MailTutor", ["MailCore", "MailMessage", "MailSim", "MailAgents"], [
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Yams", package: "Yams"),
    ]),
    ("MailBridge", ["MailCore", "MailSim", "MailAgents"], nio + [
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
    ]),
]

let present = Set(moduleDeps.map(\.name).filter { hasSources("Sources/" + $0) })
let settings: [SwiftSetting] = [.swiftLanguageMode(.v5)]

var targets: [Target] = [
    .systemLibrary(name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
]
for module in moduleDeps where present.contains(module.name) {
    let deps = module.internal.filter(present.contains).map { Target.Dependency(stringLiteral: $0) }
    targets.append(.target(name: module.name, dependencies: deps + module.external, swiftSettings: settings))
    if hasSources("Tests/\(module.name)Tests") {
        targets.append(.testTarget(name: "\(module.name)Tests",
                                   dependencies: [.init(stringLiteral: module.name)] + deps,
                                   swiftSettings: settings))
    }
}
targets.append(.executableTarget(
    name: "maillab",
    dependencies: ["CLibEdit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        + moduleDeps.map(\.name).filter(present.contains).map { .init(stringLiteral: $0) },
    swiftSettings: settings))
if hasSources("Tests/maillabTests") {
    targets.append(.testTarget(name: "maillabTests", dependencies: ["maillab"], swiftSettings: settings))
}

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
    targets: targets
)
