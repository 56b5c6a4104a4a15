import MailAgents
import MailSim

/// One student's account for a lab (`maillab serve --class N` or `--roster FILE.csv`).
public struct StudentAccount: Hashable, Sendable {
    /// The name from the roster (`Student 01` for a numbered class).
    public let name: String
    public let login: String
    public let address: String
    public let password: String
    /// Where the account's mail is served: the host with the store (IMAP, POP3) and the host
    /// to submit from (port 587), both simulated names.
    public let mailboxHost: String
    public let submissionHost: String
}

/// Makes the accounts of a class on the world's mail domains, with generated passwords, and
/// writes the teacher's table (CSV, RFC 4180).
public enum ClassRoster {
    /// Most students one `serve` makes accounts for.
    public static let maxStudents = 500
    /// Longest roster file read, in bytes.
    public static let maxRosterBytes = 1 << 20
    /// Letters passwords are drawn from: no 0/O, 1/l/I, so they can be read aloud and copied.
    static let passwordAlphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    public static let passwordLength = 12

    /// A mail domain students can use: a store, a host serving it over IMAP, a submission port.
    public struct Domain: Hashable, Sendable {
        public let name: String
        public let mailboxHost: String
        public let submissionHost: String
    }

    /// The world's domains that have a store served over IMAP (an MDA on a host whose MTA holds
    /// the domain) and a host offering submission (587), in name order.
    public static func domains(of world: MailWorld) -> [Domain] {
        var found: [Domain] = []
        for domain in world.stores.keys.sorted() {
            let hosts = world.mtas.keys.sorted().filter { world.mtas[$0]?.configuration.localDomains.contains(domain) == true }
            func listens(_ host: String, _ port: UInt16) -> Bool { world.world.host(host)?.listeningPorts.contains(port) == true }
            guard let mailbox = hosts.first(where: { world.mdas[$0] != nil && (listens($0, 143) || listens($0, 993)) }) else { continue }
            let submission = listens(mailbox, 587) ? mailbox : hosts.first { listens($0, 587) }
            guard let submission else { continue }
            found.append(Domain(name: domain, mailboxHost: mailbox, submissionHost: submission))
        }
        return found
    }

    /// A generated password of ``passwordLength`` letters and digits.
    public static func password<R: RandomNumberGenerator>(using random: inout R) -> String {
        String((0..<passwordLength).map { _ in passwordAlphabet[Int(random.next(upperBound: UInt64(passwordAlphabet.count)))] })
    }

    /// `count` students `student01`, `student02`… spread over `domains` in turn.
    public static func numbered<R: RandomNumberGenerator>(count: Int, domains: [Domain], taken: Set<String>,
                                                          using random: inout R) throws -> [StudentAccount] {
        guard !domains.isEmpty else { throw noDomain }
        guard (1...maxStudents).contains(count) else {
            throw BridgeError(fr: "--class : entre 1 et \(maxStudents) étudiants (pas \(count))",
                              en: "--class: between 1 and \(maxStudents) students (not \(count))")
        }
        let width = max(2, String(count).count)
        let names = (1...count).map { number -> (String, String) in
            let digits = String(number)
            let padded = String(repeating: "0", count: width - digits.count) + digits
            return ("Student \(padded)", "student\(padded)")
        }
        return try make(names, domains: domains, taken: taken, using: &random)
    }

    /// Students from a roster: one per line, `name` or `name,login`; a first line `name,…`
    /// is a header; blank lines and lines starting with `#` are skipped. A login is made from
    /// the name when none is given (lower-case ASCII letters and digits, `.` between words).
    /// - Throws: ``BridgeError`` naming `file:line` for a bad line.
    public static func parse<R: RandomNumberGenerator>(roster text: String, file: String, domains: [Domain],
                                                       taken: Set<String>, using random: inout R) throws -> [StudentAccount] {
        guard !domains.isEmpty else { throw noDomain }
        guard text.utf8.count <= maxRosterBytes else {
            throw BridgeError(fr: "\(file) : fichier trop long (plus de \(maxRosterBytes) octets)",
                              en: "\(file): file too long (more than \(maxRosterBytes) bytes)")
        }
        var names: [(String, String)] = []
        var seen: Set<String> = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let number = index + 1
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = try csvFields(trimmed, file: file, line: number)
            if names.isEmpty, ["name", "nom"].contains(fields[0].trimmingSpaces.lowercased()) { continue }
            let name = fields[0].trimmingSpaces
            let given = fields.count > 1 ? fields[1].trimmingSpaces.lowercased() : ""
            let login = given.isEmpty ? Self.login(from: name) : given
            guard !name.isEmpty, Self.isValidLogin(login) else {
                throw BridgeError(fr: "\(file):\(number) : identifiant invalide « \(login) » (lettres a-z, chiffres, . _ -, 1 à 32 caractères)",
                                  en: "\(file):\(number): invalid login \"\(login)\" (letters a-z, digits, . _ -, 1 to 32 characters)")
            }
            guard seen.insert(login).inserted, !taken.contains(login) else {
                throw BridgeError(fr: "\(file):\(number) : l'identifiant \(login) est déjà pris",
                                  en: "\(file):\(number): the login \(login) is already taken")
            }
            names.append((name, login))
            if names.count > maxStudents {
                throw BridgeError(fr: "\(file):\(number) : plus de \(maxStudents) étudiants",
                                  en: "\(file):\(number): more than \(maxStudents) students")
            }
        }
        guard !names.isEmpty else {
            throw BridgeError(fr: "\(file) : aucun étudiant dans la liste", en: "\(file): no student in the roster")
        }
        return try make(names, domains: domains, taken: taken, using: &random)
    }

    private static func make<R: RandomNumberGenerator>(_ names: [(String, String)], domains: [Domain], taken: Set<String>,
                                                       using random: inout R) throws -> [StudentAccount] {
        try names.enumerated().map { index, entry in
            guard !taken.contains(entry.1) else {
                throw BridgeError(fr: "l'identifiant \(entry.1) est déjà pris dans ce monde",
                                  en: "the login \(entry.1) is already taken in this world")
            }
            let domain = domains[index % domains.count]
            return StudentAccount(name: entry.0, login: entry.1, address: "\(entry.1)@\(domain.name)",
                                  password: password(using: &random), mailboxHost: domain.mailboxHost,
                                  submissionHost: domain.submissionHost)
        }
    }

    private static var noDomain: BridgeError {
        BridgeError(fr: "ce monde n'a aucun domaine avec une boîte IMAP et un port de soumission pour des étudiants",
                    en: "this world has no domain with an IMAP store and a submission port for students")
    }

    static func isValidLogin(_ login: String) -> Bool {
        (1...32).contains(login.utf8.count) && login.utf8.allSatisfy { byte in
            (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        } && login.first != "." && login.last != "."
    }

    /// `Émile Zola` → `emile.zola`: accents dropped, other characters between words become `.`.
    static func login(from name: String) -> String {
        let folded = name.applyingASCIIFold().lowercased()
        var out = ""
        var gap = false
        for scalar in folded.unicodeScalars {
            if (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") {
                if gap && !out.isEmpty { out.append(".") }
                out.unicodeScalars.append(scalar)
                gap = false
            } else {
                gap = true
            }
        }
        return String(out.prefix(32))
    }

    /// The fields of one CSV line (RFC 4180: quoted fields may hold commas and `""`).
    static func csvFields(_ line: String, file: String, line number: Int) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = Array(line)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { current.append("\""); i += 1 } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.trimmingSpaces.isEmpty {
                current = ""
                quoted = true
            } else if c == "," || c == ";" {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        chars = []
        if quoted {
            throw BridgeError(fr: "\(file):\(number) : guillemet non fermé", en: "\(file):\(number): unclosed quote")
        }
        fields.append(current)
        return fields
    }

    /// The teacher's table: a header, then one line per student with the servers and real ports.
    public static func csv(_ students: [StudentAccount], ports: [BridgedPort], host: String) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == ";" })
                ? "\"" + text.replacingAll("\"", with: "\"\"") + "\"" : text
        }
        func port(_ hostName: String, _ virtual: UInt16) -> String {
            ports.first { $0.hostName == hostName && $0.virtualPort == virtual }.map { String($0.realPort) } ?? ""
        }
        var out = "name,login,address,password,server,smtp_submission_port,imap_port,imaps_port,pop3_port,pop3s_port,smtp_host,mailbox_host\r\n"
        for s in students {
            out += [field(s.name), s.login, s.address, s.password, host,
                    port(s.submissionHost, 587), port(s.mailboxHost, 143), port(s.mailboxHost, 993),
                    port(s.mailboxHost, 110), port(s.mailboxHost, 995), s.submissionHost, s.mailboxHost].joined(separator: ",") + "\r\n"
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }

    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }

    /// Latin letters with accents become plain ones (`é` → `e`, `ß` → `ss`, `œ` → `oe`).
    func applyingASCIIFold() -> String {
        var out = ""
        for scalar in unicodeScalars {
            if scalar.isASCII { out.unicodeScalars.append(scalar); continue }
            switch scalar {
            case "à", "á", "â", "ã", "ä", "å", "À", "Á", "Â", "Ã", "Ä", "Å": out += "a"
            case "ç", "Ç": out += "c"
            case "è", "é", "ê", "ë", "È", "É", "Ê", "Ë": out += "e"
            case "ì", "í", "î", "ï", "Ì", "Í", "Î", "Ï": out += "i"
            case "ñ", "Ñ": out += "n"
            case "ò", "ó", "ô", "õ", "ö", "ø", "Ò", "Ó", "Ô", "Õ", "Ö", "Ø": out += "o"
            case "ù", "ú", "û", "ü", "Ù", "Ú", "Û", "Ü": out += "u"
            case "ý", "ÿ", "Ý": out += "y"
            case "ß": out += "ss"
            case "œ", "Œ": out += "oe"
            case "æ", "Æ": out += "ae"
            default: out += " "
            }
        }
        return out
    }
}
