extension MailStore {
    /// A user's password, for mechanisms that need it on the server side (CRAM-MD5, APOP);
    /// `nil` for unknown users and teams.
    public func password(user: String) -> String? {
        accounts[user.lowercased()]?.password
    }

    /// Logins and passwords of the users (not teams), for an MTA's submission AUTH.
    public func credentialsForSubmission() -> [(login: String, password: String)] {
        accounts.values.compactMap { account in account.password.map { (account.name, $0) } }
            .sorted { $0.login < $1.login }
    }
}
