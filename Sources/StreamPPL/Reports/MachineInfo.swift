import Foundation
import StreamPPLKernels

/// Facts about this process and machine that results are reported with.
public enum MachineInfo {
    /// Peak resident set size of this process in bytes (VmHWM), or nil where /proc is missing.
    public static func peakResidentBytes() -> Int? { statusBytes("VmHWM:") }

    /// Makes the peak (VmHWM) start again from the current resident size, so that a job run after another reports its
    /// own peak (Linux: `5` written to /proc/self/clear_refs; elsewhere nothing happens).
    public static func resetPeakResidentBytes() {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        defer { try? handle.close() }
        try? handle.write(contentsOf: Data("5".utf8))
    }

    /// Current resident set size of this process in bytes (VmRSS).
    public static func residentBytes() -> Int? { statusBytes("VmRSS:") }

    private static func statusBytes(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }

    public static var description: String {
        let info = ProcessInfo.processInfo
        var cpu = "unknown CPU"
        if let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":", maxSplits: 1).last {
            cpu = name.trimmingCharacters(in: .whitespaces)
        }
        let gigabytes = Double(info.physicalMemory) / Double(1 << 30)
        return "\(cpu), \(info.activeProcessorCount) cores, \(String(format: "%.0f", gigabytes)) GiB, \(info.operatingSystemVersionString), "
            + "OpenBLAS core \(LinearAlgebra.blasCore)"
    }
}
