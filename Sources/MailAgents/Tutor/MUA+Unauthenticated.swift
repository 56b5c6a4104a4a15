import MailCore
import MailSim

extension MUA {
    /// Submits like ``submit(_:from:to:messageID:completion:)`` but never authenticates: a client
    /// with no account (a spam robot on port 25, a client whose "authentication" box is unticked).
    /// The server's relay policy alone decides. Used by the tutor for devices with `auth: false`.
    public func submitWithoutAuthentication(_ data: [UInt8], from sender: String, to recipients: [String],
                                            messageID: String = "", completion: ((SubmissionResult) -> Void)? = nil) {
        let tls: SMTPClientTLSMode
        switch account.smtpSecurity {
        case .none: tls = .none
        case .startTLS: tls = .startTLSRequired
        case .tls: tls = .implicit
        }
        guard let job = SMTPClientJob(from: sender, to: recipients, data: data, ehloName: account.ehloName,
                                      tls: tls, authentication: nil) else {
            completion?(SubmissionResult(messageID: messageID, result: nil,
                                         transportError: "invalid address in \(([sender] + recipients).joined(separator: ", "))"))
            return
        }
        let session = ClientSession<SMTPClient, SMTPClientAction, SMTPAttempt>(
            engine: SMTPClient(job: job), world: world, serverName: account.smtpHost,
            hooks: SMTPClient.sessionHooks) { attempt in
            completion?(SubmissionResult(messageID: messageID, result: attempt.result, transportError: attempt.transportError))
        }
        session.connect(from: host, to: account.smtpHost, port: account.smtpPort, implicitTLS: account.smtpSecurity == .tls)
    }
}
