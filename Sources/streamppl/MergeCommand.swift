import ArgumentParser
import Foundation
import StreamPPL

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the output folders of a sharded run into the outputs of the whole run.",
        discussion: """
        Each folder is the --out of `streamppl run --shard K/N` with the same settings. The merged folder gets \
        nll.csv.gz, summary.csv, summary.md, memory.csv, ppl.svg and run.json equal to those of one unsharded run \
        (timing fields aside). Every job must be in exactly one folder.

        Exit codes: 0 merged; 1 folders that do not make one run (different settings or model, a shard missing \
        or twice, damaged files), with one line on stderr.

        Example: streamppl merge out/shard-0 out/shard-1 out/shard-2 --out out/merged
        """)

    @Argument(help: "The shards' output folders.")
    var folders: [String]

    @Option(name: .long, help: "Output folder for the merged run.")
    var out: String

    @Flag(name: .long, help: "Print a machine-readable summary as JSON on stdout.")
    var json = false

    func run() throws {
        do {
            guard !folders.isEmpty else { throw fail("merge: give the shards' output folders") }
            let outcome = try RunMerge.merge(folders, into: out)
            if json {
                print(RunSummary(model: outcome.manifest.settings.model, modelSHA256: outcome.manifest.model.sha256, results: outcome.results)
                    .json(out: out))
            }
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
    }
}
