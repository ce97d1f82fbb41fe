import ArgumentParser
import Foundation
import StreamPPL

/// `--model`, shared by the subcommands that load one.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "GGUF model file; scripts/fetch-model.sh fetches the default one.")
    var model: String = RunSettings.defaultModel

    func openModelFile() throws -> GGUFFile {
        try ModelLocation.checkExists(model)
        return try GGUFFile(path: model)
    }
}

enum ModelLocation {
    /// The default model gets its own hint: it is fetched, not shipped.
    static func checkExists(_ path: String) throws {
        if path == RunSettings.defaultModel, !FileManager.default.fileExists(atPath: path) {
            throw fail("\(path): the default model is missing; run scripts/fetch-model.sh first")
        }
    }
}
