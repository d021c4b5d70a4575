/// Formats a Double exactly like Go's `strconv.FormatFloat(v, 'g', -1, 64)`.
///
/// Prometheus' Go libraries write sample values and `le` bounds this way, so
/// matching it keeps the output byte-identical with client_golang and keeps
/// `le` label values (which are opaque strings to Prometheus) stable.
///
/// The rules, from Go's `strconv/ftoa.go` (`formatDigits`, `fmtE`, `fmtF`):
/// - the digits are the shortest ones that parse back to `v`;
/// - with `exp` the decimal exponent of the first digit (`1234.5` has 3),
///   exponent form is used when `exp < -4 || exp >= 6` (shortest mode fixes
///   the threshold at 6, not at the digit count);
/// - the exponent has a sign and at least two digits: `1e-06`, `1.5e+300`;
/// - otherwise plain decimal without trailing zeros: `123456`, `0.0001`;
/// - `-0` keeps its sign; infinities are `+Inf`/`-Inf`, NaN is `NaN`.
public func formatGoFloat(_ v: Double) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(24)
    appendGoFloat(v, into: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

/// Appends `formatGoFloat(v)` as UTF-8 to `buffer`. The digits are built on
/// the stack, and integral values never go through a String.
public func appendGoFloat(_ v: Double, into buffer: inout [UInt8]) {
    appendGoFloatBytes(v, into: &buffer)
}

/// `appendGoFloat` into any byte sink (the encoder's writer).
func appendGoFloatBytes(_ v: Double, into buffer: inout some ByteSink) {
    if v.isNaN {
        buffer.write("NaN")
        return
    }
    if v.isInfinite {
        buffer.write(v < 0 ? "-Inf" : "+Inf")
        return
    }
    if v.sign == .minus {
        buffer.append(UInt8(ascii: "-"))
    }
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumDigits) { storage in
        let decimal = shortestDecimal(of: v.magnitude, into: storage)
        appendInGoLayout(
            digits: UnsafeBufferPointer(rebasing: storage[..<decimal.digitCount]),
            decimalPoint: decimal.decimalPoint,
            into: &buffer
        )
    }
}

/// More than the 17 significant digits a Double ever needs, with room for
/// the trailing zero Swift's description adds ("1000000.0").
private let maximumDigits = 32

/// Writes the shortest round-trip digits of a finite, non-negative value as
/// ASCII into `digits`, in the shape Go's formatter works on: the value is
/// `0.d₁d₂…dₙ × 10^decimalPoint`, without leading or trailing zero digits.
/// Zero has no digits.
private func shortestDecimal(
    of magnitude: Double, into digits: UnsafeMutableBufferPointer<UInt8>
) -> (digitCount: Int, decimalPoint: Int) {
    var digitCount = 0
    var decimalPoint = 0

    // Every integer below 2^53 is exact and its neighbours are at most 1
    // away, so its own digits are already the shortest round-trip form.
    if magnitude < 9_007_199_254_740_992.0, Double(UInt64(magnitude)) == magnitude {
        let integer = UInt64(magnitude)
        var remaining = integer
        while remaining != 0 {
            digitCount += 1
            remaining /= 10
        }
        remaining = integer
        var index = digitCount
        while index > 0 {
            index -= 1
            digits[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
        }
        decimalPoint = digitCount
    } else {
        // Swift's description already holds the shortest round-trip digits
        // (as Go's Ryū finds them) but lays them out its own way
        // ("1000000.0", "1e-05", "1.2345e+20").
        var seenPoint = false
        var inExponent = false
        var exponentIsNegative = false
        var exponent = 0
        for byte in magnitude.description.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    exponent = exponent * 10 + Int(byte &- UInt8(ascii: "0"))
                } else if digitCount == 0 && byte == UInt8(ascii: "0") {
                    // A leading zero only moves the point when it follows it.
                    if seenPoint { decimalPoint -= 1 }
                } else {
                    if digitCount < digits.count {
                        digits[digitCount] = byte
                        digitCount += 1
                    }
                    if !seenPoint { decimalPoint += 1 }
                }
            case UInt8(ascii: "."):
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                inExponent = true
            case UInt8(ascii: "-"):
                exponentIsNegative = true
            default:
                break
            }
        }
        decimalPoint += exponentIsNegative ? -exponent : exponent
    }

    while digitCount > 0, digits[digitCount - 1] == UInt8(ascii: "0") {
        digitCount -= 1
    }
    return (digitCount, digitCount == 0 ? 0 : decimalPoint)
}

/// Go's `%g` at shortest precision (`formatDigits` with `eprec = 6`), then
/// `fmtE` or `fmtF`.
private func appendInGoLayout(
    digits: UnsafeBufferPointer<UInt8>, decimalPoint: Int, into buffer: inout some ByteSink
) {
    let digitCount = digits.count
    let exponent = decimalPoint - 1
    if digitCount != 0 && (exponent < -4 || exponent >= 6) {
        // fmtE with precision digitCount - 1: d[.ddd]e±dd
        buffer.append(digits[0])
        if digitCount > 1 {
            buffer.append(UInt8(ascii: "."))
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[1...]))
        }
        buffer.append(UInt8(ascii: "e"))
        buffer.append(UInt8(ascii: exponent < 0 ? "-" : "+"))
        let magnitude = exponent.magnitude
        if magnitude >= 100 {
            buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude / 100))
        }
        buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude / 10 % 10))
        buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10))
        return
    }

    // fmtF with precision max(digitCount - decimalPoint, 0): the integer
    // part padded with zeros, then only the significant fraction digits.
    if decimalPoint > 0 {
        if digitCount >= decimalPoint {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[..<decimalPoint]))
        } else {
            buffer.append(contentsOf: digits)
            for _ in 0..<(decimalPoint - digitCount) { buffer.append(UInt8(ascii: "0")) }
        }
    } else {
        buffer.append(UInt8(ascii: "0"))
    }
    if digitCount > decimalPoint {
        buffer.append(UInt8(ascii: "."))
        if decimalPoint < 0 {
            for _ in 0..<(-decimalPoint) { buffer.append(UInt8(ascii: "0")) }
            buffer.append(contentsOf: digits)
        } else {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[decimalPoint...]))
        }
    }
}

/// Appends an unsigned integer in decimal, as Go's `strconv.AppendUint`.
func appendDecimal(_ value: UInt64, into buffer: inout some ByteSink) {
    if value == 0 {
        buffer.append(UInt8(ascii: "0"))
        return
    }
    var divisor: UInt64 = 1
    while divisor <= value / 10 {
        divisor *= 10
    }
    var remaining = value
    while divisor > 0 {
        buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining / divisor))
        remaining %= divisor
        divisor /= 10
    }
}
