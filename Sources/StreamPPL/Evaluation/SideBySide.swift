import Foundation
import StreamPPLKernels

/// Evaluations run side by side (`run --jobs`), each on its own thread with the cores shared out among them
/// (`Parallel.workers`): on a machine whose cores one evaluation cannot keep busy, several independent ones can.
/// The kernels split their work so that the numbers do not depend on the share, so each evaluation gives what it
/// gives alone.
public enum SideBySide {
    /// `body` over `items` with up to `slots` at a time, taken in order; returns the results of those that ran, in
    /// item order. No item starts once `shouldStop` says so or one has failed, and the `stopped` handed to each body
    /// turns true then too (a body checks it between passes); the first failure is thrown once the others have stopped.
    public static func run<Item, Result>(_ items: [Item], slots: Int, shouldStop: @escaping () -> Bool = { false },
                                         _ body: (Item, _ stopped: @escaping () -> Bool) throws -> Result) throws -> [Result] {
        let slots = max(1, min(slots, items.count))
        let previousWorkers = Parallel.workers
        Parallel.workers = max(1, Parallel.cores / slots)
        defer { Parallel.workers = previousWorkers }
        let lock = NSLock()
        var results = [Result?](repeating: nil, count: items.count)
        var next = 0
        var failure: Error?
        let stopped = {
            lock.lock()
            defer { lock.unlock() }
            return failure != nil || shouldStop()
        }
        /// The next item to run, or nil when there is none to start.
        func take() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard next < items.count, failure == nil, !shouldStop() else { return nil }
            next += 1
            return next - 1
        }
        func work() {
            while let index = take() {
                do {
                    let result = try body(items[index], stopped)
                    lock.lock()
                    results[index] = result
                    lock.unlock()
                } catch {
                    lock.lock()
                    failure = failure ?? error
                    lock.unlock()
                }
            }
        }
        // One slot runs on the caller's thread, so that its kernels' own splitting is not nested in another.
        if slots == 1 {
            work()
        } else {
            withoutActuallyEscaping(work) { work in DispatchQueue.concurrentPerform(iterations: slots) { _ in work() } }
        }
        if let failure { throw failure }
        return results.compactMap { $0 }
    }
}
