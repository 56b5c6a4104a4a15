/// An address in an ENVELOPE: `(name adl mailbox host)` (RFC 3501 §7.4.2).
///
/// A group is written as `(NIL NIL "group" NIL)` … `(NIL NIL NIL NIL)`, which this type can
/// express with `host == nil`.
public struct IMAPAddress: Hashable, Sendable {
    public var name: String?
    public var adl: String?
    public var mailbox: String?
    public var host: String?

    public init(name: String?, adl: String? = nil, mailbox: String?, host: String?) {
        self.name = name; self.adl = adl; self.mailbox = mailbox; self.host = host
    }

    public var encoded: [UInt8] {
        Array("(".utf8) + IMAPWire.nstring(name) + [0x20] + IMAPWire.nstring(adl) + [0x20]
            + IMAPWire.nstring(mailbox) + [0x20] + IMAPWire.nstring(host) + Array(")".utf8)
    }

    /// `NIL` for an empty list, else `((…)(…))`.
    public static func encodeList(_ list: [IMAPAddress]) -> [UInt8] {
        if list.isEmpty { return Array("NIL".utf8) }
        return [UInt8(ascii: "(")] + list.flatMap(\.encoded) + [UInt8(ascii: ")")]
    }
}

/// The ENVELOPE of a message (RFC 3501 §7.4.2): header values as written (unfolded), addresses parsed.
public struct IMAPEnvelope: Hashable, Sendable {
    public var date: String?
    public var subject: String?
    public var from: [IMAPAddress]
    public var sender: [IMAPAddress]
    public var replyTo: [IMAPAddress]
    public var to: [IMAPAddress]
    public var cc: [IMAPAddress]
    public var bcc: [IMAPAddress]
    public var inReplyTo: String?
    public var messageID: String?

    public init(date: String? = nil, subject: String? = nil, from: [IMAPAddress] = [], sender: [IMAPAddress] = [],
                replyTo: [IMAPAddress] = [], to: [IMAPAddress] = [], cc: [IMAPAddress] = [], bcc: [IMAPAddress] = [],
                inReplyTo: String? = nil, messageID: String? = nil) {
        self.date = date; self.subject = subject; self.from = from; self.sender = sender; self.replyTo = replyTo
        self.to = to; self.cc = cc; self.bcc = bcc; self.inReplyTo = inReplyTo; self.messageID = messageID
    }

    /// Sender and Reply-To default to From when absent, as RFC 3501 requires of servers.
    public var encoded: [UInt8] {
        let sp: [UInt8] = [0x20]
        var out: [UInt8] = [UInt8(ascii: "(")]
        out += IMAPWire.nstring(date) + sp + IMAPWire.nstring(subject) + sp
        out += IMAPAddress.encodeList(from) + sp
        out += IMAPAddress.encodeList(sender.isEmpty ? from : sender) + sp
        out += IMAPAddress.encodeList(replyTo.isEmpty ? from : replyTo) + sp
        out += IMAPAddress.encodeList(to) + sp + IMAPAddress.encodeList(cc) + sp + IMAPAddress.encodeList(bcc) + sp
        out += IMAPWire.nstring(inReplyTo) + sp + IMAPWire.nstring(messageID)
        out.append(UInt8(ascii: ")"))
        return out
    }
}

/// A `Content-Disposition` as BODYSTRUCTURE shows it: `("attachment" ("FILENAME" "a.pdf"))`.
public struct IMAPDisposition: Hashable, Sendable {
    public var kind: String
    public var parameters: [(String, String)]
    public init(kind: String, parameters: [(String, String)] = []) { self.kind = kind; self.parameters = parameters }
    public static func == (a: IMAPDisposition, b: IMAPDisposition) -> Bool {
        a.kind == b.kind && a.parameters.map { [$0.0, $0.1] } == b.parameters.map { [$0.0, $0.1] }
    }
    public func hash(into h: inout Hasher) { h.combine(kind); for (k, v) in parameters { h.combine(k); h.combine(v) } }
}

/// BODY / BODYSTRUCTURE of a message or part (RFC 3501 §7.4.2).
public indirect enum IMAPBodyStructure: Hashable, Sendable {
    /// A leaf part. `lines` is set for `text/*`; `message` for `message/rfc822`.
    case single(IMAPSinglePart)
    /// A multipart: its children, subtype (`MIXED`, `ALTERNATIVE`…), parameters, disposition,
    /// Content-Language tags and Content-Location.
    case multipart(parts: [IMAPBodyStructure], subtype: String, parameters: [IMAPParameter], disposition: IMAPDisposition?,
                   language: [String] = [], location: String? = nil)

    /// Encodes the extensible form (BODYSTRUCTURE) or the basic form (BODY).
    public func encoded(extensible: Bool) -> [UInt8] {
        let sp: [UInt8] = [0x20]
        switch self {
        case .multipart(let parts, let subtype, let parameters, let disposition, let language, let location):
            var out: [UInt8] = [UInt8(ascii: "(")]
            for part in parts { out += part.encoded(extensible: extensible) }
            if parts.isEmpty { out += Array("NIL".utf8) }
            out += sp + IMAPWire.string(subtype.uppercased())
            if extensible {
                out += sp + IMAPParameter.encodeList(parameters) + sp + IMAPBodyStructure.encode(disposition) + sp
                out += IMAPBodyStructure.encodeLanguage(language) + sp + IMAPWire.nstring(location)
            }
            out.append(UInt8(ascii: ")"))
            return out
        case .single(let p):
            var out: [UInt8] = [UInt8(ascii: "(")]
            out += IMAPWire.string(p.type.uppercased()) + sp + IMAPWire.string(p.subtype.uppercased()) + sp
            out += IMAPParameter.encodeList(p.parameters) + sp + IMAPWire.nstring(p.id) + sp
            out += IMAPWire.nstring(p.description) + sp + IMAPWire.string(p.encoding.uppercased()) + sp
            out += Array(String(p.size).utf8)
            if let message = p.message {
                out += sp + message.envelope.encoded + sp + message.body.encoded(extensible: extensible)
                out += sp + Array(String(p.lines ?? 0).utf8)
            } else if let lines = p.lines {
                out += sp + Array(String(lines).utf8)
            }
            if extensible {
                out += sp + IMAPWire.nstring(p.md5) + sp + IMAPBodyStructure.encode(p.disposition) + sp
                out += IMAPBodyStructure.encodeLanguage(p.language) + sp + IMAPWire.nstring(p.location)
            }
            out.append(UInt8(ascii: ")"))
            return out
        }
    }

    static func encode(_ d: IMAPDisposition?) -> [UInt8] {
        guard let d else { return Array("NIL".utf8) }
        return [UInt8(ascii: "(")] + IMAPWire.string(d.kind) + [0x20] + IMAPParameter.encodeList(d.parameters) + [UInt8(ascii: ")")]
    }

    /// `body-fld-lang`: `NIL`, one string, or a parenthesised list of strings (RFC 3501 §9).
    static func encodeLanguage(_ tags: [String]) -> [UInt8] {
        switch tags.count {
        case 0: return Array("NIL".utf8)
        case 1: return IMAPWire.string(tags[0])
        default: return [UInt8(ascii: "(")] + Array(tags.map { IMAPWire.string($0) }.joined(separator: [0x20])) + [UInt8(ascii: ")")]
        }
    }
}

/// A `name=value` parameter of Content-Type or Content-Disposition.
public struct IMAPParameter: Hashable, Sendable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }

    /// `("CHARSET" "UTF-8" "NAME" "x")`, or `NIL` when empty.
    public static func encodeList(_ list: [IMAPParameter]) -> [UInt8] {
        if list.isEmpty { return Array("NIL".utf8) }
        var out: [UInt8] = [UInt8(ascii: "(")]
        for (i, p) in list.enumerated() {
            if i > 0 { out.append(0x20) }
            out += IMAPWire.string(p.name.uppercased()) + [0x20] + IMAPWire.string(p.value)
        }
        out.append(UInt8(ascii: ")"))
        return out
    }

    static func encodeList(_ list: [(String, String)]) -> [UInt8] { encodeList(list.map { IMAPParameter($0.0, $0.1) }) }
}

/// A leaf part of a BODYSTRUCTURE.
public struct IMAPSinglePart: Hashable, Sendable {
    public var type: String
    public var subtype: String
    public var parameters: [IMAPParameter]
    public var id: String?
    public var description: String?
    public var encoding: String
    /// Size of the body in octets (after the part's header).
    public var size: Int
    /// Number of lines, for `text/*` and `message/rfc822` parts.
    public var lines: Int?
    /// The encapsulated message of a `message/rfc822` part.
    public var message: IMAPEncapsulatedMessage?
    public var md5: String?
    public var disposition: IMAPDisposition?
    /// Content-Language tags (RFC 3282).
    public var language: [String]
    /// Content-Location (RFC 2557).
    public var location: String?

    public init(type: String, subtype: String, parameters: [IMAPParameter] = [], id: String? = nil,
                description: String? = nil, encoding: String = "7BIT", size: Int, lines: Int? = nil,
                message: IMAPEncapsulatedMessage? = nil, md5: String? = nil, disposition: IMAPDisposition? = nil,
                language: [String] = [], location: String? = nil) {
        self.type = type; self.subtype = subtype; self.parameters = parameters; self.id = id
        self.description = description; self.encoding = encoding; self.size = size; self.lines = lines
        self.message = message; self.md5 = md5; self.disposition = disposition
        self.language = language; self.location = location
    }
}

/// The envelope and structure of a `message/rfc822` part.
public final class IMAPEncapsulatedMessage: Hashable, @unchecked Sendable {
    public let envelope: IMAPEnvelope
    public let body: IMAPBodyStructure
    public init(envelope: IMAPEnvelope, body: IMAPBodyStructure) { self.envelope = envelope; self.body = body }
    public static func == (a: IMAPEncapsulatedMessage, b: IMAPEncapsulatedMessage) -> Bool {
        a.envelope == b.envelope && a.body == b.body
    }
    public func hash(into h: inout Hasher) { h.combine(envelope); h.combine(body) }
}

/// Where each part of a message lies in its raw bytes, for `BODY[section]` (RFC 3501 §6.4.5).
///
/// `header` is the part's header block including the blank line that ends it (the MIME header
/// for a body part); `body` is what follows. `parts` are the children of a multipart;
/// `message` is the layout of the message inside a `message/rfc822` part (its ranges are offsets
/// in the same raw bytes).
public struct IMAPPartLayout: Hashable, Sendable {
    public var header: Range<Int>
    public var body: Range<Int>
    public var parts: [IMAPPartLayout]
    public var message: [IMAPPartLayout]
    public var isMultipart: Bool

    public init(header: Range<Int>, body: Range<Int>, parts: [IMAPPartLayout] = [], message: IMAPPartLayout? = nil,
                isMultipart: Bool = false) {
        self.header = header; self.body = body; self.parts = parts
        self.message = message.map { [$0] } ?? []; self.isMultipart = isMultipart
    }
}

/// Everything FETCH needs about a message besides its bytes and flags.
public struct IMAPMessageStructure: Hashable, Sendable {
    public var envelope: IMAPEnvelope
    public var body: IMAPBodyStructure
    public var layout: IMAPPartLayout
    /// The Subject with RFC 2047 encoded words decoded (SORT's base subject starts from it,
    /// RFC 5256 §2.1); nil when the store gave none, and SORT then uses the raw value.
    public var decodedSubject: String?
    public init(envelope: IMAPEnvelope, body: IMAPBodyStructure, layout: IMAPPartLayout, decodedSubject: String? = nil) {
        self.envelope = envelope; self.body = body; self.layout = layout; self.decodedSubject = decodedSubject
    }
}
