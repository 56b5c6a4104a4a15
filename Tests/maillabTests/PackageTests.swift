import Foundation
import Testing

/// The Debian package `scripts/package` writes to `dist/`: its files, its control fields, and a
/// program that links to no toolchain library. Skipped (with the reason) when `dpkg-deb` is
/// missing or no package was built (`bash scripts/package` takes a release build).
@Suite struct PackageTests {
    static let dpkgDeb = ["/usr/bin/dpkg-deb", "/bin/dpkg-deb"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The newest `dist/maillab_*.deb`.
    static var package: String? {
        let dist = CommandLineTests.repository + "/dist"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dist)) ?? [])
            .filter { $0.hasPrefix("maillab_") && $0.hasSuffix(".deb") }
        func date(_ name: String) -> Date {
            ((try? FileManager.default.attributesOfItem(atPath: dist + "/" + name))?[.modificationDate] as? Date) ?? .distantPast
        }
        return names.max { date($0) < date($1) }.map { dist + "/" + $0 }
    }

    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: dpkgDeb != nil, "dpkg-deb is not installed"),
          .enabled(if: package != nil, "no dist/maillab_*.deb: run bash scripts/package (a release build)"))
    func packageHoldsTheProgramAndTheCourseAndNoToolchainLibrary() throws {
        let dpkgDeb = try #require(Self.dpkgDeb), deb = try #require(Self.package)
        let info = try Self.run(dpkgDeb, ["-I", deb])
        #expect(info.status == 0, "\(info.output)")
        let fields = Dictionary(info.output.split(separator: "\n").compactMap { line -> (String, String)? in
            // Control fields are printed with one leading space, description lines with two.
            guard line.hasPrefix(" "), !line.hasPrefix("  ") else { return nil }
            let text = line.trimmingCharacters(in: .whitespaces)
            guard let colon = text.firstIndex(of: ":") else { return nil }
            return (String(text[..<colon]), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }, uniquingKeysWith: { first, _ in first })
        #expect(fields["Package"] == "maillab")
        #expect(fields["Depends"] == "libedit2, libsqlite3-0")
        #expect(fields["Version"]?.hasPrefix("0.") == true, "\(fields)")
        let architecture = try Self.run("/usr/bin/dpkg", ["--print-architecture"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(fields["Architecture"] == architecture)

        let contents = try Self.run(dpkgDeb, ["-c", deb])
        #expect(contents.status == 0)
        let paths = contents.output.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(paths.contains("./usr/bin/maillab"))
        let repository = CommandLineTests.repository
        for folder in ["Lessons", "Scenarios"] {
            let shipped = try FileManager.default.contentsOfDirectory(atPath: repository + "/" + folder).filter { $0.hasSuffix(".yaml") }
            #expect(!shipped.isEmpty)
            for name in shipped { #expect(paths.contains("./usr/share/maillab/\(folder)/\(name)"), "\(folder)/\(name)") }
        }
        #expect(!paths.contains { $0.contains("/opt/") || $0.contains(".so") }, "\(paths)")

        // The program links to system libraries only: nothing from the Swift toolchain.
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("maillab-deb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try Self.run(dpkgDeb, ["-x", deb, folder.path]).status == 0)
        let program = folder.appendingPathComponent("usr/bin/maillab").path
        let ldd = try Self.run("/usr/bin/ldd", [program])
        #expect(ldd.status == 0, "\(ldd.output)")
        for library in ["libswift", "libFoundation", "libdispatch", "libBlocksRuntime", "/opt/swift", "not found"] {
            #expect(!ldd.output.contains(library), "\(library) in\n\(ldd.output)")
        }
        #expect(ldd.output.contains("libedit"))
        #expect(ldd.output.contains("libsqlite3"))
    }
}
