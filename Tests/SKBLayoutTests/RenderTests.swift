import Foundation
import SKBLayout
import SKBuff
import Testing

/// The pahole-style report and the JSON records.
@Suite struct RenderTests {
    let offMinimal = LayoutTarget(arch: .x86_64, representation: .offset, config: .minimal)

    @Test func gapsOfX86_64OffsetMinimal() {
        let gaps = TargetLayout.swiftModel(offMinimal).skBuff.gaps
        #expect(gaps == [
            LayoutGap(after: "nf_trace", before: "protocol", bitOffset: 1007, bits: 1),
            LayoutGap(after: "end", before: "head", bitOffset: 164 * 8, bits: 32),
        ])
    }

    @Test func paholeMarksHolesCacheLinesAndSummary() throws {
        let text = PaholeRenderer.render(TargetLayout.swiftModel(offMinimal).skBuff, .skBuff, target: offMinimal)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let hole = try #require(lines.firstIndex { $0 == "/* XXX 4 bytes hole, try to pack */" })
        #expect(lines[hole + 1].hasPrefix("head;"))
        #expect(lines.contains("/* XXX 1 bit hole, try to pack */"))
        #expect(lines.contains("/* --- cacheline 1 boundary (64 bytes) was 40 bytes ago --- */"))
        #expect(lines.contains("/* --- cacheline 2 boundary (128 bytes) --- */"))
        #expect(lines.contains("/* size: 192, cachelines: 3, members: 38 */"))
        #expect(lines.contains("/* sum members: 187 bytes + 7 bits, holes: 1, sum holes: 4 */"))
        #expect(!lines.contains { $0.hasPrefix("/* padding:") })
        #expect(lines.contains { $0.hasPrefix("local_df:1;") && $0.hasSuffix("/*   124:0    1 bit */") })
        #expect(lines.contains { $0.hasPrefix("head;") && $0.hasSuffix("/*     168     8 */") })
    }

    @Test func paholeReportsTailPadding() {
        let layout = StructLayoutFixture.layout([("p", 0, 8), ("n", 8, 4)], size: 16, align: 8)
        let text = PaholeRenderer.render(layout, .sharedInfo, target: offMinimal)
        #expect(text.contains("/* padding: 4 */"))
        #expect(text.contains("/* last cacheline: 16 bytes */"))
    }

    @Test func jsonRecordsHaveTheDocumentedShape() throws {
        let layouts = LayoutTarget.all.map(TargetLayout.swiftModel)
        let json = try LayoutJSON.encode(layouts)
        let records = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(records.count == 24)
        for record in records {
            #expect(Set(record.keys) == ["arch", "representation", "config", "struct", "size", "align", "fields"])
            #expect(["i386", "x86_64"].contains(record["arch"] as? String ?? ""))
            #expect(["offset", "pointer"].contains(record["representation"] as? String ?? ""))
            #expect(["sk_buff", "skb_shared_info"].contains(record["struct"] as? String ?? ""))
            let fields = try #require(record["fields"] as? [[String: Any]])
            for field in fields {
                let keys = Set(field.keys)
                #expect(keys == ["name", "offset", "size"] || keys == ["name", "offset", "size", "bit_offset", "bit_width"], "\(field)")
            }
        }
        let first = records[0]
        #expect(first["arch"] as? String == "i386" && first["representation"] as? String == "offset" && first["config"] as? String == "minimal")
        let localDF = try #require((first["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "local_df" })
        #expect(localDF["bit_width"] as? Int == 1 && localDF["size"] as? Int == 0)
    }

    @Test func differenceTableNamesTheField() {
        var moved = TargetLayout.swiftModel(offMinimal)
        moved.skBuff.fields[moved.skBuff.fields.firstIndex { $0.name == "users" }!].offset = 192
        moved.skBuff.size = 200
        let differences = LayoutComparison.compare(.swiftModel(offMinimal), LayoutSourceName.swiftModel, with: moved, LayoutSourceName.libclang)
        #expect(differences.map { "\($0.item) \($0.property)" } == ["struct sk_buff size", "sk_buff.users offset"])
        let table = LayoutComparison.table(differences).split(separator: "\n")
        #expect(table.count == 4)
        #expect(table[3].split(separator: " ", omittingEmptySubsequences: true)
            == ["x86_64", "OFF", "minimal", "sk_buff.users", "offset", "188", "(Swift", "layout)", "192", "libclang"])
    }
}
