import ArgumentParser
import Foundation
import StreamPPL

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two summary.csv files row by row: a CI gate on perplexity.",
        discussion: """
        Rows are matched by (config, data). A row fails when its perplexity moved by more than \
        atol + rtol * |baseline ppl| in either direction (the evaluation is deterministic, so any larger change \
        is flagged), or with --one-sided only when it rose by more.

        Exit codes: 0 every row within tolerance; 1 a row beyond tolerance; 2 not comparable: a file missing or \
        not a summary, different rows, token counts or model_sha256, a partial run (complete=false), a NaN or infinite \
        perplexity, a bad \
        option value, or --junit not writable (one line on stderr names the file and the reason).

        Example: streamppl compare results/baseline/summary.csv out/summary.csv --rtol 0.005 --junit compare.xml
        """)

    @Argument(help: "The reference summary.csv.")
    var baseline: String

    @Argument(help: "The summary.csv to check against it.")
    var candidate: String

    @Option(help: "Relative tolerance on each row's perplexity (0.005 = 0.5%).")
    var rtol = 0.005

    @Option(help: "Absolute tolerance on each row's perplexity, added to the relative one.")
    var atol = 0.0

    @Flag(help: "Fail only when the candidate's perplexity is higher than allowed, not when it is lower.")
    var oneSided = false

    @Option(help: "Also write the result as JUnit XML to this file (with an <error> when not comparable).")
    var junit: String?

    func run() throws {
        let tolerance = ComparisonTolerance(relative: rtol, absolute: atol, oneSided: oneSided)
        for (flag, value) in [("--rtol", rtol), ("--atol", atol)] where !(value.isFinite && value >= 0) {
            throw stop("\(flag) must be a finite number >= 0, found \(value)", tolerance: tolerance)
        }
        let comparison: SummaryComparison
        do throws(ReportError) {
            comparison = try SummaryComparison(baseline: SummaryFile(contentsOfFile: baseline),
                                               candidate: SummaryFile(contentsOfFile: candidate), tolerance: tolerance)
        } catch {
            throw stop("not comparable: \(error.path): \(error.reason)", tolerance: tolerance)
        }
        print(comparison.table)
        print(comparison.verdict)
        if let junit {
            do throws(ReportError) { try DurableFile.write(comparison.junitXML, to: junit) } catch {
                throw fail("\(error.path): cannot write: \(error.reason)", exitCode: 2)
            }
        }
        if !comparison.passed { throw ExitCode.failure }
    }

    /// Exit 2 with one line on stderr, and the problem as a JUnit error when --junit was given.
    private func stop(_ problem: String, tolerance: ComparisonTolerance) -> ExitCode {
        if let junit {
            let report = SummaryComparison.junitXML(notComparable: problem, baseline: baseline, candidate: candidate, tolerance: tolerance)
            // The exit code and the stderr line already fail the job; a report that cannot be written adds nothing.
            try? DurableFile.write(report, to: junit)
        }
        return fail(problem, exitCode: 2)
    }
}
