/// One line of `COPY ... TO STDOUT` in PostgreSQL's text format: values separated by tabs,
/// `\N` for NULL, and backslash escapes for the characters that would break the line.
public enum CopyText {
    public static func values(of line: [UInt8]) throws(CopyTextError) -> [String?] {
        var values: [String?] = []
        var field: [UInt8] = []
        var isNull = false
        var index = 0
        func finish() {
            values.append(isNull ? nil : String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            isNull = false
        }
        while index < line.count {
            let byte = line[index]
            index += 1
            if byte == 0x09 {
                finish()
                continue
            }
            guard byte == 0x5C else {
                field.append(byte)
                continue
            }
            guard index < line.count else { throw CopyTextError("a backslash ends the line") }
            let escaped = line[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "N") where field.isEmpty && (index == line.count || line[index] == 0x09): isNull = true
            case UInt8(ascii: "b"): field.append(0x08)
            case UInt8(ascii: "f"): field.append(0x0C)
            case UInt8(ascii: "n"): field.append(0x0A)
            case UInt8(ascii: "r"): field.append(0x0D)
            case UInt8(ascii: "t"): field.append(0x09)
            case UInt8(ascii: "v"): field.append(0x0B)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(escaped - UInt8(ascii: "0"))
                for _ in 0..<2 where index < line.count && (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(line[index]) {
                    value = value * 8 + Int(line[index] - UInt8(ascii: "0"))
                    index += 1
                }
                field.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x") where index < line.count && TemporalRow.hexValue(line[index]) != nil:
                var value = TemporalRow.hexValue(line[index]) ?? 0
                index += 1
                if index < line.count, let low = TemporalRow.hexValue(line[index]) {
                    value = value << 4 | low
                    index += 1
                }
                field.append(value)
            default:
                field.append(escaped)
            }
        }
        finish()
        return values
    }
}

public struct CopyTextError: Error, Equatable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { "COPY text: \(message)" }
}
