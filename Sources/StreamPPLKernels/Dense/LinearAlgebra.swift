import CBLAS
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few dense kernels the forward pass needs besides attention (`Attention`). Matrix products go to OpenBLAS; the rest are plain loops
/// that the optimizer vectorizes.
package enum LinearAlgebra {
    /// y (rows x w.rows) = x (rows x w.columns) · wᵀ: every token's row times every output row of the weight.
    /// Large products are split by output rows over the cores, each part a single-threaded sgemm: OpenBLAS's
    /// own threads spin (sched_yield) between calls and would steal a core from the attention workers.
    package static func multiply(_ x: UnsafePointer<Float>, rows: Int, by weight: FloatMatrix, into y: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        singleThreadedBLAS
        let parts = rows * weight.rows * weight.columns >= 1 << 20 ? Parallel.workers : 1
        Parallel.perform(parts) { part in
            let first = weight.rows * part / parts, end = weight.rows * (part + 1) / parts
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                        Int32(rows), Int32(end - first), Int32(weight.columns),
                        1, x, Int32(weight.columns), weight.row(first), Int32(weight.columns),
                        0, y + first, Int32(weight.rows))
        }
    }

    /// The kernels OpenBLAS picked for this CPU at start-up (a build with DYNAMIC_ARCH; `OPENBLAS_CORETYPE` overrides it).
    /// An older OpenBLAS falls back to a generic core on a CPU it does not know, several times slower: worth reporting.
    package static var blasCore: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS runs single-threaded; parallelism is ours (see `multiply`).
    package static let singleThreadedBLAS: Void = openblas_set_num_threads(1)

    /// RMSNorm of each row, scaled by `weight` (Llama: x / sqrt(mean(x²) + ε) · w).
    package static func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>, epsilon: Float,
                        into y: UnsafeMutablePointer<Float>) {
        for row in 0 ..< rows {
            let input = x + row * width
            let output = y + row * width
            let sumOfSquares = dot(input, input, count: width)
            let scale = 1 / (sumOfSquares / Float(width) + epsilon).squareRoot()
            for i in 0 ..< width { output[i] = weight[i] * (input[i] * scale) }
        }
    }

    /// LayerNorm of each row: (x - mean) / sqrt(variance + ε) · w + b (b when given), the mean and variance summed in
    /// Float64 as ggml's norm sums them.
    package static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                  epsilon: Float, into y: UnsafeMutablePointer<Float>) {
        for row in 0 ..< rows {
            let input = x + row * width
            let output = y + row * width
            var sum = 0.0
            for i in 0 ..< width { sum += Double(input[i]) }
            let mean = Float(sum / Double(width))
            var sumOfSquares = 0.0
            for i in 0 ..< width {
                output[i] = input[i] - mean
                sumOfSquares += Double(output[i]) * Double(output[i])
            }
            let scale = 1 / (Float(sumOfSquares / Double(width)) + epsilon).squareRoot()
            for i in 0 ..< width { output[i] = weight[i] * (output[i] * scale) }
            if let bias { add(bias, into: output, count: width) }
        }
    }

    /// gate ← silu(gate) · up, elementwise (SwiGLU).
    package static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0 ..< count {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// gate ← gelu(gate) · up, elementwise (GeGLU).
    package static func geGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0 ..< count { gate[i] = gelu(gate[i]) * up[i] }
    }

    /// x ← gelu(x), elementwise: the activation of an ungated feed-forward (GPT-NeoX, Falcon, MPT).
    package static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0 ..< count { x[i] = gelu(x[i]) }
    }

    /// GELU's tanh form computed exactly, in Float64 (llama.cpp's CPU GELU reads an f16 table instead: METHOD.md §2's
    /// architecture notes, "Model families", say what that costs).
    @inline(__always)
    private static func gelu(_ value: Float) -> Float {
        let root2OverPi = (2 / Double.pi).squareRoot()
        let g = Double(value)
        return Float(0.5 * g * (1 + tanh(root2OverPi * (g + 0.044715 * g * g * g))))
    }

    /// x ← min(max(x, -limit), limit): MPT's `clamp_kqv`.
    package static func clamp(_ x: UnsafeMutablePointer<Float>, count: Int, limit: Float) {
        for i in 0 ..< count { x[i] = min(max(x[i], -limit), limit) }
    }

    /// x ← x · factor.
    package static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        for i in 0 ..< count { x[i] *= factor }
    }

    /// x ← cap · tanh(x / cap): logit soft-capping.
    package static func softCap(_ x: UnsafeMutablePointer<Float>, count: Int, cap: Float) {
        for i in 0 ..< count { x[i] = cap * tanhf(x[i] / cap) }
    }

    package static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0 ..< count { y[i] += x[i] }
    }

    /// Adds `vector` (width values) to each of the `rows` rows of `matrix`: a bias.
    package static func addToEachRow(_ vector: UnsafePointer<Float>, of matrix: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for row in 0 ..< rows { add(vector, into: matrix + row * width, count: width) }
    }

    /// Σ a[i]·b[i] in eight lanes (a plain loop would stay scalar: the compiler keeps a float sum's order).
    package static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>.zero
        var i = 0
        while i + 8 <= count {
            lanes += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var sum = lanes.sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// -log softmax(logits)[target], with the normalizer accumulated in Float64 (METHOD.md §1).
    package static func negativeLogLikelihood(logits: UnsafePointer<Float>, count: Int, target: Int) -> Double {
        let maximum = VectorMath.maximum(logits, count: count)
        return log(VectorMath.sumOfExponentials(logits, count: count, shift: maximum)) + Double(maximum) - Double(logits[target])
    }
}

