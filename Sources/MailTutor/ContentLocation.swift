import Foundation

/// Where the course's content (the `Lessons/` and `Scenarios/` folders) lives, and every place
/// looked at on the way, so that "nothing found" can say where it looked and how to fix it.
///
/// Order (DESIGN.md, "Installation"): beside the program (`<bindir>/../share/maillab`, which is
/// where `scripts/install` and the Debian package put it), then `MAILLAB_CONTENT`, then a
/// MailLab repository (a folder holding `Package.swift` and `Lessons/` or `Scenarios/`) at or
/// above the current directory, then at or above the program's folder.
public struct ContentLocation: Sendable, Equatable {
    public enum Origin: String, Sendable, Equatable {
        case besideProgram = "beside-program"
        case environment
        case repository
    }

    /// One place looked at. For `.repository`, `path` is the folder the walk up started from.
    public struct Place: Sendable, Equatable {
        public var origin: Origin
        public var path: String
        public var found: Bool
    }

    /// The folder holding `Lessons/` and/or `Scenarios/`; nil when none was found.
    public var base: String?
    public var origin: Origin?
    /// Every place looked at, in order, up to and including the one that matched.
    public var looked: [Place] = []
    /// Whether `MAILLAB_CONTENT` was set (to say "not set" rather than "no content there").
    public var environmentValue: String?
    public var executablePath: String?

    /// The existing `Lessons` and `Scenarios` folders under `base`.
    public var folders: [String] {
        guard let base else { return [] }
        return Self.contentFolders(base)
    }

    public static func contentFolders(_ base: String) -> [String] {
        ["Lessons", "Scenarios"].map { join(base, $0) }.filter(isDirectory)
    }

    // Paths are handled as strings with POSIX calls (`stat`, `realpath`): this runs at every start,
    // and Foundation's URL and FileManager cost a start of `maillab lessons` about a millisecond.

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// The path with `.`, `..` and repeated slashes taken out, without looking at the disk (what
    /// `URL.standardized` does to a file path); relative paths are first made absolute.
    static func standardized(_ path: String, currentDirectory: String = "/") -> String {
        let absolute = path.hasPrefix("/") ? path : join(currentDirectory, path)
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder holding the path's last component ("/" for a top-level one).
    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The path with symbolic links resolved (`realpath`); the path itself when that fails.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    static func holdsContent(_ folder: String) -> Bool { !contentFolders(folder).isEmpty }

    /// Looks for the content. `executablePath` is the running program (nil in tests that only
    /// want the environment and the current directory).
    public static func locate(environment: [String: String], executablePath: String?,
                              currentDirectory: String) -> ContentLocation {
        var location = ContentLocation()
        location.executablePath = executablePath
        func found(_ origin: Origin, _ path: String) -> ContentLocation {
            location.looked.append(Place(origin: origin, path: path, found: true))
            location.base = path
            location.origin = origin
            return location
        }
        // 1. Beside the program: the path as run, then with symbolic links resolved.
        var programFolders: [String] = []
        if let executablePath, !executablePath.isEmpty {
            let asRun = parent(executablePath)
            let real = parent(resolved(executablePath))
            for folder in [asRun, real] where !programFolders.contains(folder) { programFolders.append(folder) }
        }
        for folder in programFolders {
            let share = standardized(join(folder, "../share/maillab"), currentDirectory: currentDirectory)
            if location.looked.contains(where: { $0.path == share }) { continue }
            if holdsContent(share) { return found(.besideProgram, share) }
            location.looked.append(Place(origin: .besideProgram, path: share, found: false))
        }
        // 2. MAILLAB_CONTENT.
        if let explicit = environment["MAILLAB_CONTENT"], !explicit.isEmpty {
            location.environmentValue = explicit
            if holdsContent(explicit) { return found(.environment, explicit) }
            location.looked.append(Place(origin: .environment, path: explicit, found: false))
        } else {
            // Recorded with an empty path: the message says "not set".
            location.looked.append(Place(origin: .environment, path: "", found: false))
        }
        // 3. A repository at or above the current directory, then the program's folder.
        var starts = [currentDirectory]
        for folder in programFolders where !starts.contains(folder) { starts.append(folder) }
        for start in starts {
            var path = standardized(start, currentDirectory: currentDirectory)
            for _ in 0..<64 {
                if exists(join(path, "Package.swift")), holdsContent(path) {
                    location.looked.append(Place(origin: .repository, path: start, found: true))
                    location.base = path
                    location.origin = .repository
                    return location
                }
                let up = parent(path)
                if up == path { break }
                path = up
            }
            location.looked.append(Place(origin: .repository, path: start, found: false))
        }
        return location
    }

    /// What the learner or the administrator reads when no content was found.
    public func notFoundMessage(_ language: Language) -> String {
        let fr = language == .fr
        var out = fr ? "maillab : contenu du cours introuvable (les dossiers Lessons/ et Scenarios/).\nEndroits examinés :\n"
                     : "maillab: the course content was not found (the Lessons/ and Scenarios/ folders).\nLooked in:\n"
        for place in looked {
            switch place.origin {
            case .besideProgram:
                out += fr ? "  \(place.path) (à côté du programme \(executablePath ?? "?")) : absent\n"
                          : "  \(place.path) (beside the program \(executablePath ?? "?")): not there\n"
            case .environment where place.path.isEmpty:
                out += fr ? "  MAILLAB_CONTENT : non défini\n" : "  MAILLAB_CONTENT: not set\n"
            case .environment:
                out += fr ? "  MAILLAB_CONTENT=\(place.path) : ni Lessons/ ni Scenarios/ dans ce dossier\n"
                          : "  MAILLAB_CONTENT=\(place.path): no Lessons/ or Scenarios/ in that folder\n"
            case .repository:
                out += fr ? "  un dépôt MailLab (Package.swift et Lessons/) dans \(place.path) ou au-dessus : aucun\n"
                          : "  a MailLab repository (Package.swift and Lessons/) at or above \(place.path): none\n"
            }
        }
        out += fr
            ? "Pour corriger : installez MailLab avec son contenu (scripts/install PRÉFIXE, ou le paquet .deb), "
              + "ou donnez à MAILLAB_CONTENT le dossier qui contient Lessons/ et Scenarios/ "
              + "(export MAILLAB_CONTENT=/chemin/vers/MailLab), ou lancez maillab depuis le dépôt MailLab.\n"
            : "To fix it: install MailLab with its content (scripts/install PREFIX, or the .deb package), "
              + "or set MAILLAB_CONTENT to the folder that holds Lessons/ and Scenarios/ "
              + "(export MAILLAB_CONTENT=/path/to/MailLab), or run maillab from inside the MailLab repository.\n"
        return out
    }
}
