import MailCore
import MailMessage

/// Computes ENVELOPE, BODYSTRUCTURE and the part layout of a raw message for the IMAP server
/// (RFC 3501 §7.4.2 and §6.4.5), from MailMessage's parse of the message.
///
/// The message model already holds everything: the MIME tree with section numbers, the byte ranges
/// of each entity's header and body, parameters as written, and the raw header values. This type
/// only translates that model into the IMAP wire types of MailCore. By the RFC, the ENVELOPE and
/// the parameters carry values as written: encoded words (RFC 2047) and RFC 2231 parameters stay
/// encoded; the client decodes them.
public enum IMAPStructure {
    /// Analyses a whole message.
    public static func analyze(rawMessage raw: [UInt8]) -> IMAPMessageStructure {
        let message = Message(parsing: raw)
        let (body, layout) = structure(of: message.root)
        let envelope = envelope(of: message.root)
        return IMAPMessageStructure(envelope: envelope, body: body, layout: layout,
                                    decodedSubject: envelope.subject.map { EncodedWord.decode($0).text })
    }

    // MARK: body structure and layout

    /// The BODYSTRUCTURE of one entity and where its header and body lie in the raw bytes.
    static func structure(of part: MIMEPart) -> (IMAPBodyStructure, IMAPPartLayout) {
        let layout = IMAPPartLayout(header: part.headerRange, body: part.bodyRange)
        switch part.body {
        case .multipart(let children):
            let mapped = children.map(structure(of:))
            let body = IMAPBodyStructure.multipart(parts: mapped.map(\.0), subtype: part.subtype,
                                                   parameters: parameters(part.parameters), disposition: disposition(of: part),
                                                   language: part.language, location: part.location)
            return (body, IMAPPartLayout(header: part.headerRange, body: part.bodyRange, parts: mapped.map(\.1), isMultipart: true))
        case .message(let inner):
            let (innerBody, innerLayout) = structure(of: inner)
            var single = singlePart(part)
            single.message = IMAPEncapsulatedMessage(envelope: envelope(of: inner), body: innerBody)
            single.lines = part.bodyLineCount
            return (.single(single), IMAPPartLayout(header: part.headerRange, body: part.bodyRange, message: innerLayout))
        case .single:
            return (.single(singlePart(part)), layout)
        }
    }

    /// The basic and extension fields of a non-multipart body (RFC 3501 §7.4.2 `body-type-1part`).
    static func singlePart(_ part: MIMEPart) -> IMAPSinglePart {
        var type = part.type, subtype = part.subtype
        var params = parameters(part.parameters)
        if type == "multipart" {
            // A multipart whose boundary never appears (or nested too deep) is shown as plain text,
            // like a missing boundary parameter (RFC 2046 §5.1.7 fallback).
            type = "text"; subtype = "plain"; params = [IMAPParameter("CHARSET", "us-ascii")]
        } else if type == "message" && (subtype == "rfc822" || subtype == "global") && !part.isMessage {
            // Only reached past the parser's nesting limit: without its envelope and body such a
            // part cannot be written as MESSAGE/RFC822 (RFC 3501 §9 body-type-msg), so it is
            // shown as opaque data, which it is for this server.
            type = "application"; subtype = "octet-stream"
        }
        return IMAPSinglePart(type: type, subtype: subtype, parameters: params, id: part.contentID,
                              description: part.contentDescription, encoding: part.contentTransferEncodingValue.uppercased(),
                              size: part.size, lines: type == "text" ? part.bodyLineCount : nil, md5: part.md5,
                              disposition: disposition(of: part), language: part.language, location: part.location)
    }

    /// Parameters as written (RFC 2231 sections and encoded values kept), names upper-cased.
    static func parameters(_ raw: [RawParameter]) -> [IMAPParameter] {
        raw.map { IMAPParameter($0.name.uppercased(), $0.value) }
    }

    static func disposition(of part: MIMEPart) -> IMAPDisposition? {
        part.disposition.map { IMAPDisposition(kind: $0.type.uppercased(), parameters: parameters($0.rawParameters).map { ($0.name, $0.value) }) }
    }

    // MARK: envelope

    static func envelope(of entity: MIMEPart) -> IMAPEnvelope {
        let e = entity.envelope
        return IMAPEnvelope(date: e.date, subject: e.subject, from: addresses(e.from), sender: addresses(e.sender),
                            replyTo: addresses(e.replyTo), to: addresses(e.to), cc: addresses(e.cc), bcc: addresses(e.bcc),
                            inReplyTo: e.inReplyTo, messageID: e.messageID)
    }

    static func addresses(_ value: String?) -> [IMAPAddress] {
        Envelope.rawAddresses(value).flatMap(imapAddresses)
    }

    /// Parses an RFC 5322 address list into ENVELOPE addresses: `Alice <alice@example.com>`,
    /// `"Doe, J." <j@x>`, `bob@company.org (Bob)`, groups `team: a@x, b@y;`.
    public static func parseAddressList(_ value: String) -> [IMAPAddress] {
        AddressParser.parseRawList(value).flatMap(imapAddresses)
    }

    /// A group is written `(NIL NIL "name" NIL)`, its members, then `(NIL NIL NIL NIL)` (RFC 3501 §7.4.2).
    static func imapAddresses(_ entry: RawAddressListEntry) -> [IMAPAddress] {
        switch entry {
        case .mailbox(let mailbox):
            return [imapAddress(mailbox)]
        case .group(let name, let members):
            return [IMAPAddress(name: nil, mailbox: name, host: nil)] + members.map(imapAddress)
                + [IMAPAddress(name: nil, mailbox: nil, host: nil)]
        }
    }

    static func imapAddress(_ mailbox: RawMailAddress) -> IMAPAddress {
        IMAPAddress(name: mailbox.name.flatMap { $0.isEmpty ? nil : $0 }, adl: mailbox.route,
                    mailbox: mailbox.localPart.isEmpty ? nil : mailbox.localPart,
                    host: mailbox.domain.isEmpty ? nil : mailbox.domain)
    }

    // MARK: header values

    struct ContentType {
        var type: String
        var subtype: String
        var parameters: [IMAPParameter]
    }

    /// `text/plain; charset="utf-8"; format=flowed` (RFC 2045 §5.1) as BODYSTRUCTURE shows it:
    /// lower-case type, upper-case parameter names, values unquoted but otherwise as written.
    static func parseContentType(_ value: String) -> ContentType {
        guard let parsed = MIMEHeaderValue.parse(value) else { return ContentType(type: "", subtype: "", parameters: []) }
        return ContentType(type: parsed.type, subtype: parsed.subtype, parameters: parameters(parsed.rawParameters))
    }
}
