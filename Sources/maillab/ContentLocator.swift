import ArgumentParser
import Foundation
import MailTutor

/// Finds the course's `Lessons/` and `Scenarios/` (``ContentLocation``: beside the program, then
/// `MAILLAB_CONTENT`, then the repository) and loads only what a command needs. A command that
/// needs content and finds none says where it looked and how to fix it, and exits 2.
enum ContentLocator {
    /// What a command needs from the content.
    enum Need {
        /// Ids and titles (lists, the REPL's start); lessons and scenarios are parsed when used.
        case index
        case lesson(String)
        case scenario(String)
    }

    static func locate(environment: [String: String]) -> ContentLocation {
        ContentLocation.locate(environment: environment, executablePath: executablePath,
                               currentDirectory: currentDirectory)
    }

    static var currentDirectory: String {
        guard let path = getcwd(nil, 0) else { return FileManager.default.currentDirectoryPath }
        defer { free(path) }
        return String(cString: path)
    }

    /// The running program (`/proc/self/exe` on Linux, which is what `Bundle.main` reads there,
    /// without the cost of making the main bundle at every start).
    static var executablePath: String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 { return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        #endif
        return Bundle.main.executablePath
    }

    /// The `Lessons` and `Scenarios` folders found, or none (for `check PATH…`, which needs none).
    static func defaultPaths(environment: [String: String]) -> [String] {
        locate(environment: environment).folders
    }

    /// The folders found; when there are none, prints where it looked and exits 2.
    static func requiredPaths(_ global: GlobalOptions) throws -> [String] {
        let location = locate(environment: global.environment)
        let folders = location.folders
        if folders.isEmpty {
            Output.error(location.notFoundMessage(global.language))
            throw ExitCode(2)
        }
        return folders
    }

    /// The library for a command; what it needs is parsed now, so that its problems are in
    /// `diagnostics` when the command prints them.
    static func library(_ global: GlobalOptions, need: Need = .index) throws -> ContentLibrary {
        // Each learner gets their own values of the content's variants (`vars:`).
        ContentLibrary.variantSeed = global.learnerName
        // The heads of files seen before come from the data directory's index cache.
        let cache = (global.dataDirectory as NSString).appendingPathComponent("cache/content-index")
        let library = ContentLibrary.index(paths: try requiredPaths(global), cache: cache)
        switch need {
        case .index: break
        case let .lesson(id): _ = library.lesson(id)
        case let .scenario(id): _ = library.scenario(id)
        }
        return library
    }
}

extension ContentLocator {
    /// The former entry point, kept for files not yet moved to `library(_:need:)`: the index of
    /// the content found, or, when there is none, where it looked and exit 2.
    static func library(environment: [String: String]) -> ContentLibrary {
        let location = locate(environment: environment)
        if location.folders.isEmpty {
            Output.error(location.notFoundMessage(Language.resolve(option: nil, environment: environment)))
            exit(2)
        }
        return ContentLibrary.index(paths: location.folders)
    }
}
