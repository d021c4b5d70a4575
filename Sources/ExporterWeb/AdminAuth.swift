/// Bearer-token check for the admin API, in time that does not depend on where the
/// given token first differs, nor on how much of it is right.
public struct AdminAuth: Sendable {
    let token: [UInt8]

    /// `token` is the file's content without its trailing newline; an empty token is refused
    /// by the caller before this is built.
    public init(token: [UInt8]) {
        self.token = token
    }

    public func allows(_ authorization: String?) -> Bool {
        guard let authorization else { return false }
        let scheme = authorization.prefix(7)
        guard scheme.lowercased() == "bearer " else { return false }
        let given = Array(authorization.utf8.dropFirst(7))
        return AdminAuth.constantTimeEqual(given, token)
    }

    /// Compares every byte of the expected token whatever the input, folding the length
    /// difference into the result instead of returning early.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: given.count ^ expected.count)
        if given.count != expected.count { difference |= 1 }
        for i in 0..<expected.count {
            let g = i < given.count ? given[i] : 0
            difference |= g ^ expected[i]
        }
        return difference == 0
    }
}
