import Foundation

/// Set by the first Ctrl-C: the run stops after the current forward pass and writes valid partial files.
/// A second Ctrl-C kills the process as usual.
nonisolated(unsafe) private var interruptRequested: sig_atomic_t = 0

enum Interrupt {
    static func install() {
        signal(SIGINT) { _ in
            interruptRequested = 1
            signal(SIGINT, SIG_DFL)
        }
        signal(SIGTERM) { _ in
            interruptRequested = 1
            signal(SIGTERM, SIG_DFL)
        }
    }

    static var requested: Bool { interruptRequested != 0 }
}
