import ArgumentParser
import Foundation
import StreamPPL

/// `--model`, shared by the subcommands that load one.
struct ModelOptions: ParsableArguments {
    static let defaultPath = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    @Option(name: .long, help: "GGUF model file (default: \(defaultPath), fetched by scripts/fetch-model.sh).")
    var model: String = defaultPath

    func openModelFile() throws -> GGUFFile {
        if model == Self.defaultPath, !FileManager.default.fileExists(atPath: model) {
            throw fail("\(model): the default model is missing; run scripts/fetch-model.sh first")
        }
        return try GGUFFile(path: model)
    }
}
