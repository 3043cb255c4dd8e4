/* CLibClang has no code: its header declares types for Swift. SwiftPM needs one source file. */
