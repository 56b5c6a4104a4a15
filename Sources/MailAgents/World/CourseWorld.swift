import MailCore
import MailPolicy
import MailSim

/// What the course's world (`CourseWorld`, in MailCore: its servers, users and mechanisms) needs
/// from the agents: its DMARC records, DKIM keys and MTA settings.
extension CourseWorld {
    /// `v=DMARC1; p=reject; rua=mailto:dmarc@example.com; pct=100`, as lesson 6 shows.
    public static func dmarcRecord(_ domain: String) -> String {
        MailWorld.dmarcRecord(policy: .reject, aggregateReportsTo: "dmarc@\(domain)")
    }

    /// The DKIM signing configuration of a domain: the committed RSA demonstration key.
    public static func dkimSigning(_ domain: String) -> DKIMSigningConfiguration {
        DKIMSigningConfiguration(domain: domain, selector: dkimSelector, key: .rsaDemo)
    }

    /// The MTA settings of a server of this world.
    public static func mtaConfiguration(_ server: Server) -> MTAConfiguration {
        var configuration = MTAConfiguration(
            hostname: server.name, localDomains: Set(server.localDomains), relayDomains: Set(server.relayDomains),
            relayPolicy: .authenticated, requireTLSForAuth: true, submissionMechanisms: mechanisms)
        configuration.dkimSigning = server.signs.map(dkimSigning)
        configuration.inboundChecks = true
        configuration.dmarcEnforcement = true
        return configuration
    }
}

extension MailWorld {
    /// The world of DESIGN.md (see `CourseWorld`): hosts and DNS from `World.defaultWorld`, the
    /// agents, users and clients from `CourseWorld`.
    public static func course(seed: UInt64) throws -> MailWorld {
        let mail = MailWorld(world: try World.defaultWorld(seed: seed))
        for user in CourseWorld.users {
            try mail.addUser(address: user.address, login: user.login, password: user.password)
        }
        for domain in CourseWorld.authenticatedDomains {
            mail.publishDKIMKeys([CourseWorld.dkimSigning(domain)])
            mail.publishDMARC(domain: domain, record: CourseWorld.dmarcRecord(domain))
        }
        for server in CourseWorld.servers {
            try mail.addMTA(on: server.name, configuration: CourseWorld.mtaConfiguration(server))
            if let domain = server.mailboxDomain {
                try mail.addMDA(on: server.name, domain: domain,
                                configuration: MDAConfiguration(hostname: server.name, plaintextLoginRequiresTLS: true))
            }
        }
        for user in CourseWorld.users {
            try mail.addMUA(named: user.client, on: user.device, account: MailAccountSettings(
                address: user.address, displayName: user.displayName, login: user.login, password: user.password,
                smtpHost: user.server))
        }
        return mail
    }

    /// Lets every server of this world accept plaintext logins (AUTH before STARTTLS on
    /// submission, USER/PASS and LOGIN before STLS/STARTTLS), for tools that cannot do TLS:
    /// `maillab serve --allow-plaintext-auth`. Port 25 still offers no AUTH in clear.
    public func allowPlaintextAuthentication() {
        for mta in mtas.values { mta.setRequireTLSForAuth(false) }
        for mda in mdas.values { mda.setPlaintextLoginRequiresTLS(false) }
    }
}
