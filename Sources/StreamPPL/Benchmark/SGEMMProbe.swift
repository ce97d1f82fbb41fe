import Dispatch
import StreamPPLKernels

/// The machine's single-precision matrix-multiply throughput through the same OpenBLAS, on a product
/// shaped like the model's (a chunk of tokens times a feed-forward weight), so `bench` can say how
/// close the evaluation runs to it.
public enum SGEMMProbe {
    /// GFLOP/s of (m x k) · (k x n) products repeated for about `seconds`.
    public static func gigaflops(m: Int = 256, n: Int = 1536, k: Int = 576, seconds: Double = 1) -> Double {
        let a = FloatMatrix(rows: m, columns: k), b = FloatMatrix(rows: n, columns: k), c = FloatMatrix(rows: m, columns: n)
        for i in 0 ..< m * k { a.values[i] = Float(i % 7) * 0.01 }
        for i in 0 ..< n * k { b.values[i] = Float(i % 5) * 0.01 }
        LinearAlgebra.multiply(a.values, rows: m, by: b, into: c.values)  // warm-up: threads started, pages touched
        var repetitions = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        while elapsed < seconds {
            LinearAlgebra.multiply(a.values, rows: m, by: b, into: c.values)
            repetitions += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return 2 * Double(m * n * k) * Double(repetitions) / elapsed / 1e9
    }
}
