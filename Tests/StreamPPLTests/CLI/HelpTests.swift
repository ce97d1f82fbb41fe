import XCTest

/// Every subcommand's --help shows an example, and the root help documents the exit codes.
final class HelpTests: CLITestCase {
    func testEverySubcommandHelpShowsAnExample() throws {
        let root = try run(["--help"])
        XCTAssertEqual(root.status, 0)
        XCTAssertTrue(root.stdout.contains("Exit codes"), root.stdout)
        let names = ["run", "tokenize", "inspect", "compare", "merge", "reproduce", "attention", "latency", "bench"]
        for name in names {
            XCTAssertTrue(root.stdout.contains(name), "root help lists \(name)")
            let help = try run([name, "--help"])
            XCTAssertEqual(help.status, 0, name)
            XCTAssertTrue(help.stdout.contains("Example"), "\(name) --help shows an example:\n\(help.stdout)")
            XCTAssertTrue(help.stdout.contains("streamppl \(name)"), "\(name) --help shows an example command")
        }
    }
}
