import SKBuff

/// Figure 12-7 of the book chapter, as text: one reference's buffer as a bar scaled to `end` plus the
/// shared info, with headroom, data, tailroom and skb_shared_info as regions, head, data, tail and end
/// marked with their offsets, the three headers under the bar, and the sharers (dataref, cloned) in
/// the title. A value off the bar (data below head, tail past the shared info) is an arrow at the
/// side with its value, never clipped. Plain text fits `width` columns; `colour` adds ANSI colours.
public enum Diagram {
    enum Region: Character {
        case headroom = "-", data = "#", tailroom = ".", shinfo = "=", marker = "|", blank = " "

        var colour: String {
            switch self {
            case .headroom: return "\u{1B}[2m"
            case .data: return "\u{1B}[32m"
            case .tailroom: return "\u{1B}[36m"
            case .shinfo: return "\u{1B}[34m"
            case .marker: return "\u{1B}[1m"
            case .blank: return ""
            }
        }
    }

    /// One reference's diagram. `shinfo` is sizeof(struct skb_shared_info) on the target; `label`
    /// names the implementation when the views differ.
    public static func text(_ r: ReferenceState, shinfo: Int64, label: String? = nil, colour: Bool, width: Int = 80) -> String {
        let s = r.state
        let left = 2, barWidth = max(width - 2 * left, 20)
        let total = max(s.end, 0) + shinfo
        func col(_ x: Int64) -> Int? {
            guard x >= 0, x <= total, total > 0 else { return nil }
            return Int((Double(x) * Double(barWidth - 1) / Double(total)).rounded())
        }
        var lines: [String] = []
        var title = "skb\(r.reference)"
        if let label { title += " (\(label))" }
        title += "  len \(s.len)  truesize \(s.truesize)  users \(s.users)  dataref \(dataref(s.dataref))"
        if s.cloned || s.nohdr { title += "  cloned \(s.cloned ? 1 : 0) nohdr \(s.nohdr ? 1 : 0)" }
        if s.fclone != .unavailable { title += "  fclone \(s.fclone == .orig ? "orig" : "clone")" }
        if r.frozen { title += "  FROZEN" }
        lines.append(title)

        // The bar: regions first, then the markers over them.
        var bar = [Region](repeating: .blank, count: barWidth)
        func fill(_ from: Int64, _ to: Int64, _ region: Region) {
            let a = max(from, 0), b = min(to, total)
            guard a < b, let ca = col(a), let cb = col(b) else { return }
            // A region reaching the end of the bar takes its last column too.
            for c in ca..<(b == total ? cb + 1 : max(cb, ca + 1)) where c < barWidth { bar[c] = region }
        }
        fill(0, s.end, .tailroom)
        fill(s.end, s.end + shinfo, .shinfo)
        if s.data >= 0 { fill(0, min(s.data, s.end), .headroom) }
        if s.data < s.tail { fill(s.data, min(s.tail, s.end), .data) }
        let marks: [(name: String, value: Int64)] = [("head", 0), ("data", s.data), ("tail", s.tail), ("end", s.end)]
        var placed: [(col: Int, name: String, value: Int64)] = []
        var offBar: [String] = []
        for m in marks {
            if let c = col(m.value) {
                bar[min(c, barWidth - 1)] = .marker
                placed.append((min(c, barWidth - 1), m.name, m.value))
            } else {
                offBar.append(m.value < 0 ? "<- \(m.name) \(m.value)" : "\(m.name) \(m.value) ->")
            }
        }
        // Names and offsets above the bar, each at its marker, pushed right where they would overlap.
        var names = "", values = ""
        for p in placed.sorted(by: { $0.col < $1.col }) {
            let at = left + p.col
            let value = String(p.value)
            let start = max(at, names.count == 0 ? 0 : names.count + 1, values.count == 0 ? 0 : values.count + 1)
            names += String(repeating: " ", count: max(0, start - names.count)) + p.name
            values += String(repeating: " ", count: max(0, start - values.count)) + value
        }
        lines.append(names)
        lines.append(values)
        var barText = String(repeating: " ", count: left)
        var current: Region?
        for region in bar {
            if colour && region != current {
                barText += "\u{1B}[0m" + region.colour
                current = region
            }
            barText.append(region.rawValue)
        }
        if colour { barText += "\u{1B}[0m" }
        lines.append(barText)

        // The headers under the bar: M, N, T at their offsets.
        let headers: [(letter: Character, name: String, position: HeaderPosition)] =
            [("M", "mac", s.mac), ("N", "network", s.network), ("T", "transport", s.transport)]
        var under = [Character](repeating: " ", count: left + barWidth)
        var legend: [String] = []
        for h in headers {
            switch h.position {
            case let .offset(o):
                if let c = col(o) { under[left + c] = h.letter } else { offBar.append(o < 0 ? "<- \(h.name) \(o)" : "\(h.name) \(o) ->") }
                legend.append("\(h.letter) \(h.name) \(o)")
            case .unset: legend.append("\(h.name) unset")
            case .wild: legend.append("\(h.name) wild ->")
            }
        }
        let underText = String(under)
        if underText.contains(where: { $0 != " " }) { lines.append(trimmed(underText)) }
        var sizes: [String] = []
        if s.data >= 0 && s.data <= s.end { sizes.append("headroom \(s.data)") }
        if s.data <= s.tail && s.tail <= s.end { sizes.append("data \(s.tail - s.data)"); sizes.append("tailroom \(s.end - s.tail)") }
        sizes.append("shared info \(shinfo)")
        lines.append("  " + sizes.joined(separator: "  "))
        lines.append("  " + legend.joined(separator: "  "))
        if !offBar.isEmpty { lines.append("  off the bar: " + offBar.joined(separator: "  ")) }
        return lines.map(trimmed).joined(separator: "\n")
    }

    /// One replay step: the call and its outcome, then each live reference as the Swift OFF model
    /// sees it, and again as PTR sees it where that differs (a quirk; C agrees with Swift, or replay
    /// reports a divergence).
    public static func step(_ index: Int, _ call: Call, _ views: [Divergence.View], shinfo: (RepresentationKind) -> Int64,
                            colour: Bool, width: Int = 80) -> String {
        let off = views.first { $0.name == "swift-off" } ?? views[0]
        let ptr = views.first { $0.name == "swift-ptr" }
        var out = "[\(index)] \(SeedFile.render(call)) => \(off.outcome.map(SeedFile.render) ?? "not run")"
        if let ptr, ptr.outcome != off.outcome { out += " (PTR: \(ptr.outcome.map(SeedFile.render) ?? "not run"))" }
        out += "\n"
        for r in off.references {
            // PTR's view, when it differs beyond truesize (sizeof(struct sk_buff)) and a never-set
            // header (offset 0 under OFF, NULL under PTR).
            var differing: ReferenceState?
            if let p = ptr?.references.first(where: { $0.reference == r.reference }) {
                var same = r.state.adoptingNeverSetHeaders(of: p.state)
                same.truesize = r.state.truesize
                if same != r.state || p.frozen != r.frozen { differing = p }
            }
            out += text(r, shinfo: shinfo(.offset), label: differing == nil ? nil : "OFF", colour: colour, width: width) + "\n"
            if let differing { out += text(differing, shinfo: shinfo(.pointer), label: "PTR", colour: colour, width: width) + "\n" }
        }
        return out
    }

    static func dataref(_ d: UInt32) -> String {
        d >> 16 == 0 ? "\(d)" + (d > 1 ? " (shared)" : "") : "0x" + String(d, radix: 16)
    }

    static func trimmed(_ s: String) -> String {
        var t = Substring(s)
        while t.last == " " { t.removeLast() }
        return String(t)
    }
}
