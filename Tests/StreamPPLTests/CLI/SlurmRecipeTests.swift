import XCTest

/// The README's Slurm recipe is the pair of files `scripts/slurm-e2e.sh` submits to a real cluster (CI runs it), so
/// the documentation cannot drift from what was tested.
final class SlurmRecipeTests: XCTestCase {
    func testTheReadmeShowsTheFilesTheEndToEndCheckSubmits() throws {
        let readme = try String(contentsOfFile: TestPaths.repository + "/README.md", encoding: .utf8)
        for name in ["shards.sbatch", "submit.sh"] {
            let file = try String(contentsOfFile: TestPaths.repository + "/scripts/slurm/" + name, encoding: .utf8)
            XCTAssertTrue(readme.contains("```sh\n" + file + "```"), "README.md shows scripts/slurm/\(name) as it is")
        }
        let script = try String(contentsOfFile: TestPaths.repository + "/scripts/slurm-e2e.sh", encoding: .utf8)
        XCTAssertTrue(script.contains("\"$repo/scripts/slurm/submit.sh\""), "the end-to-end check submits the recipe itself")
    }
}
