import Foundation
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

    /// What both renderers draw of one reference: regions over [0, end + shinfo), the markers and
    /// headers that fall on the bar, and what lies off it (as text with an arrow and its value).
    struct Layout {
        let total: Int64
        var regions: [(from: Int64, to: Int64, region: Region)] = []
        var marks: [(name: String, value: Int64)] = []
        var headers: [(letter: Character, name: String, offset: Int64)] = []
        var legend: [String] = []
        var offBar: [String] = []
        var sizes: [String] = []

        init(_ s: SKBState, shinfo: Int64) {
            total = max(s.end, 0) + shinfo
            // Later regions are drawn over earlier ones.
            regions = [(0, s.end, .tailroom), (s.end, s.end + shinfo, .shinfo)]
            if s.data >= 0 { regions.append((0, min(s.data, s.end), .headroom)) }
            if s.data < s.tail { regions.append((s.data, min(s.tail, s.end), .data)) }
            func onBar(_ v: Int64) -> Bool { v >= 0 && v <= total && total > 0 }
            func arrow(_ name: String, _ v: Int64) -> String { v < 0 ? "<- \(name) \(v)" : "\(name) \(v) ->" }
            for (name, value) in [("head", Int64(0)), ("data", s.data), ("tail", s.tail), ("end", s.end)] {
                if onBar(value) { marks.append((name, value)) } else { offBar.append(arrow(name, value)) }
            }
            for (letter, name, position) in [(Character("M"), "mac", s.mac), ("N", "network", s.network), ("T", "transport", s.transport)] {
                switch position {
                case let .offset(o):
                    if onBar(o) { headers.append((letter, name, o)) } else { offBar.append(arrow(name, o)) }
                    legend.append("\(letter) \(name) \(o)")
                case .unset: legend.append("\(name) unset")
                case .wild: legend.append("\(name) wild ->")
                }
            }
            if s.data >= 0 && s.data <= s.end { sizes.append("headroom \(s.data)") }
            if s.data <= s.tail && s.tail <= s.end {
                sizes.append("data \(s.tail - s.data)")
                // skb_tailroom is 0 on a nonlinear skb, whatever the gap.
                sizes.append(s.dataLen == 0 ? "tailroom \(s.end - s.tail)" : "tailroom 0 (nonlinear; end - tail \(s.end - s.tail))")
            }
            sizes.append("shared info \(shinfo)")
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

        let layout = Layout(s, shinfo: shinfo)
        // The bar: regions first, then the markers over them.
        var bar = [Region](repeating: .blank, count: barWidth)
        for (from, to, region) in layout.regions {
            let a = max(from, 0), b = min(to, total)
            guard a < b, let ca = col(a), let cb = col(b) else { continue }
            // A region reaching the end of the bar takes its last column too.
            for c in ca..<(b == total ? cb + 1 : max(cb, ca + 1)) where c < barWidth { bar[c] = region }
        }
        var placed: [(col: Int, name: String, value: Int64)] = []
        for m in layout.marks {
            let c = min(col(m.value)!, barWidth - 1)
            bar[c] = .marker
            placed.append((c, m.name, m.value))
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

        // The headers under the bar: M, N, T at their offsets, side by side where they meet.
        var under = [Character](repeating: " ", count: left + barWidth)
        for h in layout.headers {
            var at = left + col(h.offset)!
            while at < under.count - 1 && under[at] != " " { at += 1 }
            under[at] = h.letter
        }
        let underText = String(under)
        if underText.contains(where: { $0 != " " }) { lines.append(trimmed(underText)) }
        lines.append("  " + layout.sizes.joined(separator: "  "))
        lines.append("  " + layout.legend.joined(separator: "  "))
        if !layout.offBar.isEmpty { lines.append("  off the bar: " + layout.offBar.joined(separator: "  ")) }
        return lines.map(trimmed).joined(separator: "\n")
    }

    /// One replay step: the call and its outcome, then each live reference as the Swift OFF model
    /// sees it, and again as PTR sees it where that differs (a quirk; C agrees with Swift, or replay
    /// reports a divergence). A nonlinear skb's paged data is listed under its bar, frag by frag.
    public static func step(_ index: Int, _ call: Call, _ views: [Divergence.View], shinfo: (RepresentationKind) -> Int64,
                            colour: Bool, width: Int = 80) -> String {
        let off = views.first { $0.name == "swift-off" } ?? views[0]
        let ptr = views.first { $0.name == "swift-ptr" }
        var out = "[\(index)] \(SeedFile.render(call)) => \(off.outcome.map(SeedFile.render) ?? "not run")"
        if let ptr, ptr.outcome != off.outcome { out += " (PTR: \(ptr.outcome.map(SeedFile.render) ?? "not run"))" }
        out += "\n"
        // With a kernel tree (Specs/kernel.md): what its code returned (its states are compared like C's).
        let kernel = views.filter { $0.name.hasPrefix("kernel-") }
        if !kernel.isEmpty {
            out += "  " + kernel.map { v in
                "\(v.name) " + (v.lacking ? "lacks an operation of the sequence: not compared" : "=> " + (v.outcome.map(SeedFile.render) ?? "not run"))
            }.joined(separator: ", ") + "\n"
        }
        for r in off.references {
            let differing = ptrDiffering(r, ptr)
            out += text(r, shinfo: shinfo(.offset), label: differing == nil ? nil : "OFF", colour: colour, width: width) + "\n"
            for (k, frag) in (off.frags[r.reference] ?? []).enumerated() {
                out += "  frag \(k): \(frag)" + (k == 0 ? "    (data_len \(r.state.dataLen), headlen \(r.state.len &- r.state.dataLen))" : "") + "\n"
            }
            if let differing { out += text(differing, shinfo: shinfo(.pointer), label: "PTR", colour: colour, width: width) + "\n" }
        }
        return out
    }

    /// PTR's view of a reference, when it differs from OFF's beyond truesize (sizeof(struct sk_buff))
    /// and a never-set header (offset 0 under OFF, NULL under PTR): a quirk made them part.
    static func ptrDiffering(_ r: ReferenceState, _ ptr: Divergence.View?) -> ReferenceState? {
        guard let p = ptr?.references.first(where: { $0.reference == r.reference }) else { return nil }
        var same = r.state.adoptingNeverSetHeaders(of: p.state)
        same.truesize = r.state.truesize
        return same != r.state || p.frozen != r.frozen ? p : nil
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

// MARK: SVG

extension Diagram {
    /// One row of an SVG drawing: a caption and the references to draw under it, each from one
    /// implementation, with the fields to highlight (`"skbN field"`, `"outcome"`).
    public struct Row: Sendable {
        public var caption: String
        public var step: Int
        public var references: [(implementation: String, state: ReferenceState)]
        public var highlighted: Set<String>

        public init(caption: String, step: Int, references: [(implementation: String, state: ReferenceState)], highlighted: Set<String> = []) {
            self.caption = caption
            self.step = step
            self.references = references
            self.highlighted = highlighted
        }
    }

    /// The rows of a replay: per step, each live reference as Swift OFF sees it, and as PTR sees it
    /// where a quirk makes it differ (as `step` draws them in text).
    public static func rows(_ steps: [(index: Int, call: Call, views: [Divergence.View])]) -> [Row] {
        steps.map { index, call, views in
            let off = views.first { $0.name == "swift-off" } ?? views[0]
            let ptr = views.first { $0.name == "swift-ptr" }
            var refs: [(implementation: String, state: ReferenceState)] = []
            for r in off.references {
                refs.append((off.name, r))
                if let p = ptrDiffering(r, ptr) { refs.append(("swift-ptr", p)) }
            }
            return Row(caption: "[\(index)] \(SeedFile.render(call)) => \(off.outcome.map(SeedFile.render) ?? "not run")",
                       step: index, references: refs)
        }
    }

    /// A finding's diverging step: the two implementations that disagree, one above the other, with
    /// the differing fields in red.
    public static func findingRows(_ d: Divergence) -> [Row] {
        let names: [String]
        switch d.kind {
        case .fidelityOffset: names = ["swift-off", "c-off"]
        case .fidelityPointer: names = ["swift-ptr", "c-ptr"]
        case .kernelOffset: names = ["swift-off", "kernel-off"]
        case .kernelPointer: names = ["swift-ptr", "kernel-ptr"]
        case .representation, .leak: names = ["swift-off", "swift-ptr"]
        // The program's reply has no geometry of its own: the model it is judged by is drawn, with
        // the fields the program gave otherwise in red (the header gives its reply).
        case .external: names = [d.views.last { $0.given != nil }?.representation == .pointer ? "swift-ptr" : "swift-off"]
        }
        let highlighted = Set(d.differences.map { $0.reference < 0 ? $0.field : "skb\($0.reference) \($0.field)" })
        return names.compactMap { name in
            guard let v = d.views.first(where: { $0.name == name }) else { return nil }
            let caption = "\(name): [\(d.step)] \(SeedFile.render(d.call)) => \(v.outcome.map(SeedFile.render) ?? "not run")"
            return Row(caption: caption, step: d.step, references: v.references.map { (name, $0) }, highlighted: highlighted)
        }
    }

    /// An SVG document: `header` lines of text, then the rows, each reference a `<g class="reference">`
    /// with its bar, markers, offsets and headers.
    public static func svg(header: [String], rows: [Row], shinfo: Int64) -> String {
        let width = 900.0, barX = 40.0, barWidth = 760.0
        var y = 24.0
        var body = ""
        for line in header {
            body += "<text x=\"10\" y=\"\(y)\" class=\"head\" xml:space=\"preserve\">\(escape(line))</text>\n"
            y += 18
        }
        body += legend(y: y)
        y += 22
        for row in rows {
            y += 12
            let captionClass = row.highlighted.contains("outcome") ? "caption diff" : "caption"
            body += "<text x=\"10\" y=\"\(y)\" class=\"\(captionClass)\">\(escape(row.caption))</text>\n"
            y += 10
            for (impl, r) in row.references {
                body += reference(r, implementation: impl, step: row.step, highlighted: row.highlighted, shinfo: shinfo,
                                  x: barX, y: y, width: barWidth)
                y += 92
            }
        }
        let style = """
            text { font-family: monospace; font-size: 12px; fill: #222 }
            .head { font-weight: bold } .caption { font-weight: bold } .diff { fill: #c00; font-weight: bold }
            .headroom { fill: #ccc } .data { fill: #6c6 } .tailroom { fill: #cde } .shinfo { fill: #69c }
            .marker { stroke: #000; stroke-width: 2 } .marker.diff { stroke: #c00 } .header { fill: #a50 }
            """
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(y + 20))" viewBox="0 0 \(Int(width)) \(Int(y + 20))">
            <style>\(style)</style>
            <rect width="100%" height="100%" fill="white"/>
            \(body)</svg>

            """
    }

    /// What the colours and marks mean: one line of swatches under the header.
    static func legend(y: Double) -> String {
        let items: [(String, String)] = [("headroom", "headroom"), ("data", "data"), ("tailroom", "tailroom"),
                                         ("shinfo", "shared info")]
        var out = "<g class=\"legend\">\n"
        var x = 10.0
        for (cls, label) in items {
            out += "<rect class=\"\(cls)\" x=\"\(fmt(x))\" y=\"\(fmt(y - 10))\" width=\"14\" height=\"12\"/>"
            out += "<text x=\"\(fmt(x + 18))\" y=\"\(fmt(y))\">\(escape(label))</text>\n"
            x += 30 + Double(label.count) * 7.3
        }
        out += "<text class=\"header\" x=\"\(fmt(x))\" y=\"\(fmt(y))\">M N T</text>"
        out += "<text x=\"\(fmt(x + 44))\" y=\"\(fmt(y))\">headers</text>"
        out += "<text x=\"\(fmt(x + 110))\" y=\"\(fmt(y))\">| marks: head data tail end</text>"
        out += "<text class=\"diff\" x=\"\(fmt(x + 320))\" y=\"\(fmt(y))\">red: differs</text>\n</g>\n"
        return out
    }

    static func reference(_ r: ReferenceState, implementation: String, step: Int, highlighted: Set<String>, shinfo: Int64,
                          x: Double, y: Double, width: Double) -> String {
        let s = r.state
        let total = Double(max(s.end, 0) + shinfo)
        func px(_ v: Int64) -> Double? {
            guard v >= 0, Double(v) <= total, total > 0 else { return nil }
            return x + Double(v) / total * width
        }
        func hot(_ field: String) -> Bool { highlighted.contains("skb\(r.reference) \(field)") }
        var g = "<g class=\"reference\" data-step=\"\(step)\" data-reference=\"\(r.reference)\" data-implementation=\"\(implementation)\">\n"
        let fields: [(String, String)] = [("len", "\(s.len)"), ("truesize", "\(s.truesize)"), ("users", "\(s.users)"),
                                          ("dataref", dataref(s.dataref)), ("cloned", s.cloned ? "1" : "0"), ("nohdr", s.nohdr ? "1" : "0")]
        var title = "<tspan>skb\(r.reference) (\(escape(implementation)))\(r.frozen ? " FROZEN" : "")</tspan>"
        for (name, value) in fields {
            // The separating spaces stand between the tspans, in a text that preserves them: renderers
            // drop the spaces that lead a tspan (rsvg-convert ran "len 0truesize 448" together).
            title += "  <tspan\(hot(name) ? " class=\"diff\"" : "")>\(name) \(escape(value))</tspan>"
        }
        g += "<text x=\"\(x)\" y=\"\(y + 12)\" xml:space=\"preserve\">\(title)</text>\n"
        let barY = y + 36, barH = 18.0
        let layout = Layout(s, shinfo: shinfo)
        let classes: [Region: String] = [.headroom: "headroom", .data: "data", .tailroom: "tailroom", .shinfo: "shinfo"]
        for (from, to, region) in layout.regions {
            let a = max(from, 0), b = min(to, Int64(total))
            guard a < b, let xa = px(a), let xb = px(b) else { continue }
            g += "<rect class=\"\(classes[region]!)\" x=\"\(fmt(xa))\" y=\"\(barY)\" width=\"\(fmt(xb - xa))\" height=\"\(barH)\"/>\n"
        }
        var lastLabel = -Double.infinity
        for (name, value) in layout.marks {
            let p = px(value)!
            g += "<line class=\"\(hot(name) ? "marker diff" : "marker")\" x1=\"\(fmt(p))\" y1=\"\(barY - 4)\" x2=\"\(fmt(p))\" y2=\"\(barY + barH + 4)\"/>\n"
            let lx = max(p, lastLabel + 70)
            lastLabel = lx
            g += "<text x=\"\(fmt(lx))\" y=\"\(barY - 8)\"\(hot(name) ? " class=\"diff\"" : "")>\(name) \(value)</text>\n"
        }
        var letters: [Double] = []
        for h in layout.headers {
            let p = px(h.offset)!
            // Letters at the same offset side by side.
            let lx = p - 4 + 9 * Double(letters.filter { abs($0 - p) < 9 }.count)
            letters.append(p)
            g += "<text class=\"header\" x=\"\(fmt(lx))\" y=\"\(barY + barH + 16)\">\(h.letter)</text>\n"
        }
        let legendClass = hot("mac_header") || hot("network_header") || hot("transport_header") ? " class=\"diff\"" : ""
        g += "<text x=\"\(x)\" y=\"\(barY + barH + 32)\"\(legendClass)>\(escape(layout.legend.joined(separator: "   ")))"
        if !layout.offBar.isEmpty { g += "   off the bar: " + escape(layout.offBar.joined(separator: "  ")) }
        g += "</text>\n</g>\n"
        return g
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
