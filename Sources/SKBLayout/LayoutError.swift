/// Why the layout check could not run: no libclang, a header clang rejects, an unreadable or
/// malformed expectation file. A disagreement between layouts is not an error but a result
/// (`LayoutReport.differences`). The command line prints the message once and exits 2.
public struct LayoutError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// No loadable libclang, or one without a function the reader needs.
        case libclang
        /// clang reported errors in the header, or the header lacks a struct the check reads.
        case header
        /// An expectation file could not be read or parsed.
        case expectations
        /// The arguments ask for something that cannot be done.
        case usage
    }

    public var kind: Kind
    public var message: String
    /// For header errors: every diagnostic clang reported, warnings included.
    public var diagnostics: [ClangDiagnostic]

    public init(_ kind: Kind, _ message: String, diagnostics: [ClangDiagnostic] = []) {
        self.kind = kind
        self.message = message
        self.diagnostics = diagnostics
    }

    public var description: String {
        ([message] + diagnostics.map(\.text)).joined(separator: "\n")
    }
}

/// One clang diagnostic, as clang formats it ("file:line:col: error: message").
public struct ClangDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// enum CXDiagnosticSeverity.
    public enum Severity: Int32, Comparable, Sendable, CustomStringConvertible {
        case ignored = 0, note = 1, warning = 2, error = 3, fatal = 4

        public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }

        public var description: String {
            switch self {
            case .ignored: return "ignored"
            case .note: return "note"
            case .warning: return "warning"
            case .error: return "error"
            case .fatal: return "fatal error"
            }
        }
    }

    public var severity: Severity
    /// clang_formatDiagnostic's text: location, severity and message.
    public var text: String

    public init(severity: Severity, text: String) {
        self.severity = severity
        self.text = text
    }

    public var description: String { text }
}
