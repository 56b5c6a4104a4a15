import Testing
@testable import MailCore

@Suite struct SASLTests {
    @Test func plainBuildAndParse() {
        let message = SASLPlain.message(user: "alice", password: "mypassword")
        #expect(String(decoding: Base64.encode(message), as: UTF8.self) == "AGFsaWNlAG15cGFzc3dvcmQ=")
        #expect(SASLPlain.parse(message) == .password(user: "alice", password: "mypassword", authorizationIdentity: nil))
        let withAuthzid = SASLPlain.message(user: "alice", password: "pw", authorizationIdentity: "admin")
        #expect(SASLPlain.parse(withAuthzid) == .password(user: "alice", password: "pw", authorizationIdentity: "admin"))
    }

    @Test(arguments: ["alice\u{0}pw", "\u{0}\u{0}pw", "a\u{0}b\u{0}c\u{0}d", ""])
    func plainRefusesMalformed(text: String) {
        #expect(SASLPlain.parse(bytes(text)) == nil)
    }

    /// RFC 2195 §2's example.
    @Test func cramMD5RFCExample() {
        let challenge = bytes("<1896.697170952@postoffice.reston.mci.net>")
        let response = SASLCRAMMD5.response(user: "tim", password: "tanstaaftanstaaf", challenge: challenge)
        #expect(String(decoding: response, as: UTF8.self) == "tim b913a602c7eda7a495b4e6e7334d3890")
        #expect(String(decoding: Base64.encode(response), as: UTF8.self) == "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw")
        #expect(SASLCRAMMD5.verify(response: response, challenge: challenge, password: "tanstaaftanstaaf"))
        #expect(!SASLCRAMMD5.verify(response: response, challenge: challenge, password: "other"))
        #expect(SASLCRAMMD5.parse(bytes("tim B913A602C7EDA7A495B4E6E7334D3890"))?.digest == bytes("b913a602c7eda7a495b4e6e7334d3890"))
        #expect(SASLCRAMMD5.parse(bytes("tim b913")) == nil)
    }

    @Test func cramMD5ChallengeIsDeterministic() {
        #expect(SASLCRAMMD5.challenge(sequence: 1896, time: 697170952, hostname: "postoffice.reston.mci.net")
                == bytes("<1896.697170952@postoffice.reston.mci.net>"))
        #expect(SASLCRAMMD5.challenge(sequence: 0, time: 0, hostname: "h") == bytes("<0.0@h>"))
    }

    @Test func xoauth2BuildAndParse() {
        let message = SASLXOAuth2.message(user: "someuser@example.com", token: "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
        #expect(String(decoding: Base64.encode(message), as: UTF8.self)
                == "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==")
        #expect(SASLXOAuth2.parse(message) == .bearerToken(user: "someuser@example.com", token: "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"))
        #expect(SASLXOAuth2.parse(bytes("user=a\u{1}auth=Basic x\u{1}\u{1}")) == nil)
        #expect(SASLXOAuth2.parse(bytes("user=a\u{1}auth=Bearer x\u{1}")) == nil)
    }

    @Test func mechanismNames() {
        #expect(SASLMechanism(name: bytes("cram-md5")) == .cramMD5)
        #expect(SASLMechanism(name: bytes("Plain")) == .plain)
        #expect(SASLMechanism(name: bytes("GSSAPI")) == nil)
    }
}
