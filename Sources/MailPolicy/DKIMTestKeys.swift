// The simulated world's demonstration DKIM keys.
//
// RSA key generation cannot be seeded, so this 2048-bit RSA key was generated once (openssl genpkey)
// and committed here. It signs mail only inside MailLab's simulated world: it is public and must never
// protect anything real. The Ed25519 key is derived from a fixed 32-byte seed.

import Crypto
import _CryptoExtras

/// Demonstration keys for the simulated world (never use them outside MailLab).
public enum DKIMTestKeys {
    /// PKCS#8 PEM of the 2048-bit RSA demonstration key.
    public static let rsaPrivateKeyPEM: String = """
        -----BEGIN PRIVATE KEY-----
        MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDLzQCSAnhTeLxh
        4liJT57d5HPqFEee0haVsAMHEVhEFe/qD839aFG9don0X9IR6KFvoq9Z4WgklCCK
        SqVd5gV0PcpIU6VnBFxNbZ25H20IB0wWHJ3GQDHvl8IbTzdg1L5Fm2O181vKEJuj
        WSA/hBlceNQZNq6zvNC7Y+E1cfCsdrQE0Zgm5aoxrMEpcrrMsmoWOCnfMDth6jYl
        5VnkTAGE24Mwn5JMlTpujU5hyF57zZV2KKz51+4DrQd26vhaJDqI/p8/9cfDS5ar
        dhikbsffoa40Xn6h2r67d3qoPbD5zTQc1grYR1zEDt7KXwEGEcCTcvHj46fiJrqt
        Dju3ot+ZAgMBAAECggEAJgqz+M1DuycOGQJobuchGz/F4FOdQ9jo9NOIWSUkcf8b
        S7hcBdmXanOKUEajnoqrObynGTKxXySUR2QkJpklevt+uw38EbT3as+Tkab7UfSU
        wAri64r3l0bfaXwZtPY5NyKIlAHjaB4+AxmDor+MgV2fj75MkYnk95mvA+wrFfHz
        tyWU00f/fEjaKDZVZxxcxGvn6OkeAGNQ5W8D56KnepOYelF866b+oiVakBjWyEMd
        CQ1hxZi0CNYpLdHm3Q3Vsc3SdNmvvaLe+L9tgaIwJWNXoMEqb77KaKbgNp9lNa2r
        EgA/AXsZhCgTy2j7yBaHlp80pGs3shZoFaM0GtonFQKBgQD8nEPR8yXCLNSKlYsW
        zYuuJgJcrxq5wbsnhCpZ+a9ZCfE5LA3m3k1PZGI3IrW68q+ztXnsmCxwM14ZFDRa
        974z6xKkiz6kg4Q6cMz4X7HnywoLdYy57u8frSBVvaWEoko2v0s7odSVEzYeEBGk
        SsgtM/prWtWYY0qUsOsdptNtJQKBgQDOiRKd39Ec46SKnhX4OjCpPrUUmS6Sr52h
        6GK6wu2/B2d4g2UuE+KYnLurCpSfG4bFIyjZ7EBcQHsrbcbNiY73/dVKGlulEiKz
        10r83rNz12SPETDSxMbG4BDYHasu62RRDW2+BaEzUj8ETMbzuyO/SL+0/An2NbmE
        O2cTn0SQZQKBgQCPQlPYCmv8fg4fdgXGbdVscxPd2lRuymbIV1TpaAfAmDnccZaE
        usffYY+tsxqbJizs3tuBiR+Slh8kW+gBOwT8TrFo7aseA5QGzJgBt8ueJ/DPZN/l
        RpMIRNfUqFPpL1ylRcF11SZJUPbc/8HxiZOSxyqanY4K+Sx/vQHp9AVtnQKBgG04
        7BF1ZX7jnAZ6Z5/oFgfK07Ra9dg46yHOZTfjEhut7Lg8tGtTtMeES3K+m64wvmrO
        lzH30Gl46ColWbckgej/4aXYnpKDLrrwpgVoOHqQc+t86dbsnTpbEE1aE0cy0NBU
        S67sBz2+xvidKbGHS/ZCoK8zgokkDEGzsGUeGwJJAoGAc+j8lz+Kw0j8UkOubxgd
        Vtb8VnbwhhWiwqJUSjnKCIKLip64oYZtjqmCnkaigndCjfH2KR/XQWTely09qJxv
        yI4GbLd8IMWH3+5rt84e6TBOTh4fHsgvkBoh6VrNn3vxS95H9cSKjq44QCSeqyFx
        XpV4FK1PSEaHmoQllR2YL0o=
        -----END PRIVATE KEY-----
        """

    /// `p=` value (base64 SubjectPublicKeyInfo) of the RSA demonstration key.
    public static let rsaPublicKeyBase64 = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAy80AkgJ4U3i8YeJYiU+e3eRz6hRHntIWlbADBxFYRBXv6g/N/WhRvXaJ9F/SEeihb6KvWeFoJJQgikqlXeYFdD3KSFOlZwRcTW2duR9tCAdMFhydxkAx75fCG083YNS+RZtjtfNbyhCbo1kgP4QZXHjUGTaus7zQu2PhNXHwrHa0BNGYJuWqMazBKXK6zLJqFjgp3zA7Yeo2JeVZ5EwBhNuDMJ+STJU6bo1OYchee82Vdiis+dfuA60Hdur4WiQ6iP6fP/XHw0uWq3YYpG7H36GuNF5+odq+u3d6qD2w+c00HNYK2EdcxA7eyl8BBhHAk3Lx4+On4ia6rQ47t6LfmQIDAQAB"

    /// The RSA demonstration key, parsed.
    public static func rsaPrivateKey() -> _RSA.Signing.PrivateKey {
        do {
            return try _RSA.Signing.PrivateKey(pemRepresentation: rsaPrivateKeyPEM)
        } catch {
            // The constant above is part of the source code: failing to parse it is a programmer error.
            fatalError("DKIMTestKeys.rsaPrivateKeyPEM does not parse: \(error)")
        }
    }

    /// The 32-byte seed of the Ed25519 demonstration key ("MailLab demo ed25519 key seed 01").
    public static let ed25519Seed: [UInt8] = Array("MailLab demo ed25519 key seed 01".utf8)

    /// The Ed25519 demonstration key, derived from ``ed25519Seed``.
    public static func ed25519PrivateKey() -> Curve25519.Signing.PrivateKey {
        ed25519PrivateKey(seed: ed25519Seed)
    }

    /// An Ed25519 key from any 32 seed bytes (shorter seeds are zero-padded, longer ones truncated),
    /// so a world can derive one key per domain from its root seed.
    public static func ed25519PrivateKey(seed: [UInt8]) -> Curve25519.Signing.PrivateKey {
        var bytes = Array(seed.prefix(32))
        while bytes.count < 32 { bytes.append(0) }
        do {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
        } catch {
            fatalError("32 bytes always make an Ed25519 key: \(error)")
        }
    }
}
