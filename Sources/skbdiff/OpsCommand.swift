import ArgumentParser
import SKBDiff

struct OpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "List the helpers the fuzzer generates and seed files may call, with their arguments."
    )

    func run() throws {
        for op in Operation.allCases {
            let info = op.info
            var usage = info.name
            if info.takesTarget { usage += " skbN" }
            usage += info.arguments.map { " <\($0.name): \($0.kind.cName)>" }.joined()
            print(usage.padding(toLength: 58, withPad: " ", startingAt: 0) + " " + info.summary)
        }
    }
}
