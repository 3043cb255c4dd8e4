import Foundation
import SKBLayout
import SKBuff
import Testing

/// The package root, found from this file: Tests/SKBLayoutTests/Support.swift.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let layoutsDirectory = packageRoot + "/" + ExpectationFile.directoryPath
let packageHeader = LayoutHeader(path: packageRoot + "/" + LayoutHeader.relativePath)

/// One line per difference: the target, the field and both values.
func describe(_ differences: [LayoutDifference]) -> Comment {
    Comment(rawValue: differences.map(\.description).joined(separator: "\n"))
}

/// A scratch directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skblayout-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(directory)
}

/// A copy of CReference/include in `directory` with `edit` applied to skbuff_struct.h; returns its CSKBuff.h.
func editedHeader(in directory: String, _ edit: (String) -> String) throws -> LayoutHeader {
    let include = packageRoot + "/CReference/include"
    for name in try FileManager.default.contentsOfDirectory(atPath: include) {
        var text = try String(contentsOfFile: include + "/" + name, encoding: .utf8)
        if name == "skbuff_struct.h" { text = edit(text) }
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }
    return LayoutHeader(path: directory + "/CSKBuff.h")
}
