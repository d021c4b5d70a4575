import CZlib
import Foundation

/// An 8-bit RGB or RGBA PNG (what Chromium's screenshots are) decoded to its pixels: the
/// IDAT stream inflated with zlib and each row's filter undone.
struct PNGImage {
    let width: Int
    let height: Int
    /// Row after row, `channels` bytes a pixel.
    let pixels: [UInt8]
    let channels: Int

    struct Unsupported: Error, CustomStringConvertible { var description: String }

    init(_ data: [UInt8]) throws {
        guard data.count > 8, Array(data[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw Unsupported(description: "not a PNG") }
        func uint32(_ at: Int) -> Int { Int(data[at]) << 24 | Int(data[at + 1]) << 16 | Int(data[at + 2]) << 8 | Int(data[at + 3]) }
        var offset = 8
        var header: (width: Int, height: Int, depth: UInt8, color: UInt8, interlace: UInt8)?
        var compressed: [UInt8] = []
        while offset + 8 <= data.count {
            let length = uint32(offset)
            let type = String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = (offset + 8)..<(offset + 8 + length)
            guard body.upperBound <= data.count else { throw Unsupported(description: "truncated chunk \(type)") }
            if type == "IHDR" { header = (uint32(body.lowerBound), uint32(body.lowerBound + 4), data[body.lowerBound + 8], data[body.lowerBound + 9], data[body.lowerBound + 12]) }
            if type == "IDAT" { compressed += data[body] }
            offset = body.upperBound + 4
        }
        guard let header, header.depth == 8, header.color == 2 || header.color == 6, header.interlace == 0 else {
            throw Unsupported(description: "only 8-bit RGB(A), non-interlaced PNGs are read")
        }
        width = header.width
        height = header.height
        channels = header.color == 6 ? 4 : 3
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var size = uLongf(raw.count)
        let status = uncompress(&raw, &size, compressed, uLong(compressed.count))
        guard status == Z_OK, Int(size) == raw.count else { throw Unsupported(description: "zlib uncompress: \(status)") }

        var out = [UInt8](repeating: 0, count: height * stride)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for i in 0..<stride {
                let x = Int(raw[row * (stride + 1) + 1 + i])
                let a = i >= channels ? Int(out[row * stride + i - channels]) : 0
                let b = row > 0 ? Int(out[(row - 1) * stride + i]) : 0
                let c = row > 0 && i >= channels ? Int(out[(row - 1) * stride + i - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Unsupported(description: "filter \(filter)")
                }
                out[row * stride + i] = UInt8((x + predicted) & 0xFF)
            }
        }
        pixels = out
    }

    /// The distinct RGB colors in the image.
    var colors: Set<UInt32> {
        var set: Set<UInt32> = []
        for p in stride(from: 0, to: pixels.count, by: channels) {
            set.insert(UInt32(pixels[p]) << 16 | UInt32(pixels[p + 1]) << 8 | UInt32(pixels[p + 2]))
        }
        return set
    }

    /// How many pixels have exactly this RGB color.
    func count(_ rgb: (UInt8, UInt8, UInt8)) -> Int {
        var n = 0
        for p in stride(from: 0, to: pixels.count, by: channels) where pixels[p] == rgb.0 && pixels[p + 1] == rgb.1 && pixels[p + 2] == rgb.2 { n += 1 }
        return n
    }
}
