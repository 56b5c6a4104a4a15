/// SplitMix64 (Steele, Lea, Flood 2014): used to expand one 64-bit seed into the state of
/// ``SeededRandom`` and to mix labels into child seeds.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A deterministic generator: xoshiro256** (Blackman and Vigna) seeded through SplitMix64.
///
/// Every world has one root generator made from its seed. Hosts, links and the certificate
/// authority each draw their own child with ``derive(label:)``, so adding a host does not shift the
/// numbers another host sees. Labels are hashed with FNV-1a 64 (stable across processes and
/// machines), never with Swift's `Hasher`, which is seeded per process.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The seed this generator was made from (printed by failing tests as `seed=N`).
    public let seed: UInt64
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var mix = SplitMix64(seed: seed)
        s0 = mix.next(); s1 = mix.next(); s2 = mix.next(); s3 = mix.next()
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A child generator for `label` (e.g. `"host:mail.example.com"`, `"link:a|b"`). It depends only
    /// on this generator's seed and the label, not on how many numbers were drawn before.
    public func derive(label: String) -> SeededRandom {
        var mix = SplitMix64(seed: seed ^ Self.stableHash(label))
        _ = mix.next()
        return SeededRandom(seed: mix.next())
    }

    /// FNV-1a 64 of the UTF-8 bytes of `text`: a hash that is the same in every process.
    public static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// `count` bytes drawn from the generator.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            var word = next()
            for _ in 0..<8 where out.count < count {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }

    /// True with probability `p` (0 never draws… but still consumes one number, keeping streams aligned).
    public mutating func chance(_ p: Double) -> Bool {
        let draw = Double(next() >> 11) / Double(1 << 53)
        return draw < p
    }
}
