import ArgumentParser
import Foundation
import SKBDiff

struct FindingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "findings",
        abstract: "List a findings directory's divergences grouped by cause, one line per group.",
        discussion: """
        Reads the .skb seed files a campaign wrote (--out, default ./skbdiff-findings) and groups them \
        by the '# divergence:' line each carries: the kind (which implementations disagree), the \
        operation at the first diverging call and the fields that differ. Each line gives the group's \
        count and its smallest reproducer, for 'skbdiff replay'. Exit 0 when the directory holds no \
        findings, 1 when it holds some, 2 when it cannot be read.
        """
    )

    @Argument(help: "A findings directory.")
    var directory: String = "./skbdiff-findings"

    @Flag(help: "Print one JSON object: the groups, as a campaign's --json gives them.")
    var json = false

    func run() throws {
        let read: (groups: [FindingGroup], files: Int)
        do { read = try FindingGroups.read(directory: directory) } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        if json {
            let obj: [String: Any] = ["directory": directory, "findings": read.files, "groups": read.groups.map(\.json)]
            let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data("{}".utf8)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(directory): \(read.files) finding\(read.files == 1 ? "" : "s"), \(read.groups.count) cause\(read.groups.count == 1 ? "" : "s")")
            print(FindingGroups.render(read.groups), terminator: "")
        }
        if read.files > 0 { throw ExitCode(1) }
    }
}
