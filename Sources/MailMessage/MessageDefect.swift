// Problems a best-effort parse met and worked around (the parser never stops on them).

/// A defect found while parsing a message; the parse goes on with a best-effort reading.
public enum MessageDefect: Sendable, Equatable, Hashable {
    /// A line ended with LF alone instead of CR LF (RFC 5322 §2.1).
    case bareLineFeed
    /// A header line with no colon (or an invalid field name); the line was skipped.
    case headerWithoutColon(String)
    /// A folded continuation line before any field.
    case continuationWithoutField
    /// The header block did not end with an empty line.
    case missingHeaderBodySeparator
    /// A multipart without a boundary parameter; read as a single part.
    case missingBoundaryParameter(part: String)
    /// A multipart whose boundary never appears; read as a single part.
    case boundaryNotFound(part: String)
    /// A multipart without its closing delimiter `--boundary--`; the last part runs to the end.
    case missingClosingBoundary(part: String)
    /// Base64 content with foreign characters or a bad length.
    case invalidBase64(part: String)
    /// Quoted-printable content with a malformed `=` sequence.
    case invalidQuotedPrintable(part: String)
    /// An unknown Content-Transfer-Encoding.
    case unknownTransferEncoding(part: String, String)
    /// A charset this library cannot decode; the text was read as UTF-8 with replacements.
    case unknownCharset(part: String, String)
    /// Bytes that are not valid in the declared charset.
    case invalidCharsetData(part: String)
    /// A malformed RFC 2047 encoded word in a header.
    case invalidEncodedWord(header: String)
    /// MIME nesting deeper than the parser's limit; the rest was kept as one part.
    case nestingTooDeep(part: String)
}
