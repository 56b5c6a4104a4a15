import Testing
import MailMessage
@testable import MailPolicy

/// Inputs found by the libFuzzer targets (`scripts/fuzz dkim|policy`, Fuzz/crashes/) and what they
/// must give now.
@Suite struct FuzzFindingsTests {
    static func signer() -> DKIMSigner {
        DKIMSigner(domain: "example.com", selector: "sel1", key: .ed25519(DKIMTestKeys.ed25519PrivateKey()))
    }

    static func zone() -> InMemoryDNS {
        var dns = InMemoryDNS()
        dns.addTXT("sel1._domainkey.example.com", signer().key.dnsRecord)
        return dns
    }

    /// dkim-crash-7ef06fde (minimised to " t"): a message that starts with white space. The
    /// prepended DKIM-Signature field took that line as its continuation, so `b=` ended with "t"
    /// and the signature failed ("b= is not base64") at every receiver. Now the signer refuses.
    @Test(arguments: [" t", "\t\r\nFrom: alice@example.com\r\n\r\nHi\r\n", " folded\r\nFrom: alice@example.com\r\nSubject: x\r\n\r\nbody\r\n"])
    func leadingContinuationLineIsNotSigned(_ text: String) {
        #expect(throws: DKIMSigningError.leadingContinuationLine) {
            try Self.signer().sign(message: Array(text.utf8), time: 1_795_707_022)
        }
    }

    /// What the signer does sign verifies at the receiver, odd messages included.
    @Test(arguments: ["", "\r\n", "t", "\r\n t\r\n", "From: alice@example.com\r\n\r\nHi\r\n",
                      "From: alice@example.com\nSubject: bare LF\n\nbody\n", "Subject: no From\r\n\r\n\r\n\r\n"])
    func signedMessagesVerify(_ text: String) throws {
        let signed = try Self.signer().sign(message: Array(text.utf8), time: 1_795_707_022)
        let results = DKIMVerifier(dns: Self.zone()).verify(signed, now: 1_795_707_100)
        #expect(results.first?.result == .pass, "\(String(describing: results.first?.result))")
    }
}
