import Dispatch
import Foundation

/// How many threads one evaluation's kernels use: the machine's cores by default, fewer when several jobs run side by
/// side (`run --jobs`), each on its own thread. Every kernel splits its work into pieces whose results do not depend
/// on how many there are (rows of a product, heads of attention), so the numbers are the same at any setting.
package enum Parallel {
    /// The cores this process may run on: on Linux those of its CPU affinity (`Cpus_allowed` in /proc/self/status: a
    /// Slurm task bound to its allocation, `taskset`), else every core the system reports.
    package static let cores: Int = {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            // A hexadecimal mask in comma-separated groups of 32 bits.
            let bits = line.dropFirst("Cpus_allowed:".count).filter(\.isHexDigit).reduce(0) { $0 + ($1.hexDigitValue ?? 0).nonzeroBitCount }
            if bits > 0 { return bits }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Threads per evaluation; set before jobs start, not while one runs.
    package nonisolated(unsafe) static var workers = cores

    /// Runs `body` for 0..<iterations: on the calling thread alone when `workers` is 1 (a job that shares the machine
    /// with others must not reach for the other cores), else spread over the cores.
    package static func perform(_ iterations: Int, _ body: (Int) -> Void) {
        if workers == 1 || iterations == 1 {
            for index in 0 ..< iterations { body(index) }
        } else {
            DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
        }
    }
}
