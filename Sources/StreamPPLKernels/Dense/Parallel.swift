import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many threads one evaluation's kernels use: the machine's cores by default, fewer when several jobs run side by
/// side (`run --jobs`), each on its own thread. Every kernel splits its work into pieces whose results do not depend
/// on how many there are (rows of a product, heads of attention), so the numbers are the same at any setting.
package enum Parallel {
    /// The cores of this machine.
    package static let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

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
