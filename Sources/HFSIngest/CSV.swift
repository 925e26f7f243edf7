import Foundation

/// A small RFC 4180 CSV reader: comma-separated fields, fields in double quotes may hold commas,
/// newlines and doubled quotes (`""`); records end with LF or CRLF; a UTF-8 BOM is ignored.
/// Each record carries the 1-based line where it starts, for error messages.
enum CSV {
    struct Record {
        var line: Int
        var fields: [String]
    }

    static func parse(_ text: String, name: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1, recordLine = 1
        var quoted = false          // inside a quoted field
        var wasQuoted = false       // the current field was quoted (only a separator may follow)
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var i = 0
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !wasQuoted) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []; field = ""; wasQuoted = false
        }
        while i < scalars.count {
            let c = scalars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < scalars.count && scalars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 2; continue }
                    quoted = false
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case ",":
                fields.append(field); field = ""; wasQuoted = false
            case "\r" where i + 1 < scalars.count && scalars[i + 1] == "\n":
                break
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            case "\"":
                guard field.isEmpty && !wasQuoted else {
                    throw IngestError(.labels, "\(name) line \(line): a quote inside an unquoted field (quote the whole field and double inner quotes)")
                }
                quoted = true
                wasQuoted = true
            default:
                if wasQuoted {
                    throw IngestError(.labels, "\(name) line \(line): text after a closing quote")
                }
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        if quoted { throw IngestError(.labels, "\(name) line \(recordLine): unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return records
    }
}
