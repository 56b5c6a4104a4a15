import Foundation

/// The index's cache in the data directory (`ContentLibrary.index(paths:cache:)`): for the bytes
/// of each content file seen, what its head gives (kind, id, title). A file whose digest is there
/// is neither decoded nor composed; any other change to a file changes its digest, so its head is
/// read again. The file is a text, one entry a line; a file that cannot be read or parsed is an
/// empty cache, and one that cannot be written is left as it was (listing works without it).
///
/// ```
/// maillab-content-index 1
/// <digest>\t<lesson|scenario>\t<id>\t<title fr>\t<title en>
/// ```
final class IndexCache {
    /// 128 bits over the file's bytes (two lanes over 8-byte words, then mixed) and its length.
    struct Key: Hashable {
        var a: UInt64
        var b: UInt64
        var count: Int

        var text: String { Self.hex(a) + Self.hex(b) + "-" + String(count) }

        init(a: UInt64, b: UInt64, count: Int) { self.a = a; self.b = b; self.count = count }

        init?(text: Substring) {
            let parts = text.split(separator: "-")
            guard parts.count == 2, parts[0].utf8.count == 32, let count = Int(parts[1]),
                  let a = UInt64(parts[0].prefix(16), radix: 16), let b = UInt64(parts[0].suffix(16), radix: 16) else { return nil }
            self.init(a: a, b: b, count: count)
        }

        private static func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.utf8.count) + digits
        }
    }

    private struct Cached {
        var kind: ContentEntry.Kind
        var id: String
        var title: LocalizedText
    }

    static let header = "maillab-content-index 1"
    let path: String
    private var known: [Key: Cached] = [:]
    /// The entries of this run, written back (entries of files no longer there are dropped).
    private var used: [(Key, Cached)] = []
    private var changed = false

    init(path: String) {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(validating: data, as: UTF8.self) else { return }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)[...]
        guard lines.first == Substring(Self.header) else { return }
        lines = lines.dropFirst()
        for line in lines {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 5, let key = Key(text: fields[0]) else { return }
            let kind: ContentEntry.Kind
            switch fields[1] {
            case "lesson": kind = .lesson
            case "scenario": kind = .scenario
            default: return
            }
            guard let id = Self.unescape(fields[2]), let fr = Self.unescape(fields[3]), let en = Self.unescape(fields[4]) else { return }
            known[key] = Cached(kind: kind, id: id, title: LocalizedText(fr: fr, en: en))
        }
    }

    /// The entry for a file with these bytes, if the cache has seen them.
    func entry(_ key: Key, file: String) -> ContentEntry? {
        guard let cached = known[key] else { return nil }
        used.append((key, cached))
        return ContentEntry(kind: cached.kind, id: cached.id, title: cached.title, file: file)
    }

    func store(_ key: Key, _ entry: ContentEntry) {
        let cached = Cached(kind: entry.kind, id: entry.id, title: entry.title)
        known[key] = cached
        used.append((key, cached))
        changed = true
    }

    /// Writes the entries of this run when one was added or one of the file's was not used.
    func save() {
        guard changed || used.count != known.count else { return }
        var text = Self.header + "\n"
        var written = Set<Key>()
        for (key, cached) in used where written.insert(key).inserted {
            text += key.text + "\t" + (cached.kind == .lesson ? "lesson" : "scenario") + "\t" + Self.escape(cached.id)
                + "\t" + Self.escape(cached.title.fr) + "\t" + Self.escape(cached.title.en) + "\n"
        }
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Written beside it, then renamed: a reader never sees half a file.
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    static func digest(_ data: Data) -> Key {
        data.withUnsafeBytes { raw -> Key in
            var a: UInt64 = 0x9E37_79B9_7F4A_7C15, b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
            var offset = 0
            while offset + 8 <= raw.count {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                a = ((a ^ word) &* 0x0000_0100_0000_01B3)
                a = (a << 29) | (a >> 35)
                b = (b &+ word) &* 0xFF51_AFD7_ED55_8CCD
                b ^= b >> 31
                offset += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < raw.count {
                tail |= UInt64(raw[offset]) << shift
                shift += 8
                offset += 1
            }
            a = mix(a ^ tail ^ UInt64(raw.count))
            b = mix(b &+ tail &+ 0x1656_67B1_9E37_79F9)
            return Key(a: a, b: b, count: raw.count)
        }
    }

    /// MurmurHash3's 64-bit finaliser.
    private static func mix(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { return text }
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// The text `escape` made; nil for an escape it does not make.
    static func unescape(_ field: Substring) -> String? {
        guard field.utf8.contains(0x5C) else { return String(field) }
        var out = ""
        var escaped = false
        for character in field.unicodeScalars {
            if escaped {
                switch character {
                case "\\": out += "\\"
                case "t": out += "\t"
                case "n": out += "\n"
                case "r": out += "\r"
                default: return nil
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.unicodeScalars.append(character)
            }
        }
        return escaped ? nil : out
    }
}
