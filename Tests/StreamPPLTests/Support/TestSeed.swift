import Foundation

/// The seed of a test's random choices: `STREAMPPL_TEST_SEED` when set (to replay a failure), else a fixed
/// default, so that a run is repeatable and a failure message can say how to repeat it.
enum TestSeed {
    static let defaultValue: UInt64 = 20_261_202

    struct Invalid: Error, CustomStringConvertible {
        let text: String
        var description: String { "STREAMPPL_TEST_SEED='\(text)': expected a whole number from 0 to \(UInt64.max)" }
    }

    static func value() throws -> UInt64 {
        guard let text = ProcessInfo.processInfo.environment["STREAMPPL_TEST_SEED"] else { return defaultValue }
        guard let seed = UInt64(text) else { throw Invalid(text: text) }
        return seed
    }
}
