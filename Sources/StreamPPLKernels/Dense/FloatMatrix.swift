/// A row-major Float32 matrix that owns its memory. Weight matrices are `rows` outputs x `columns` inputs,
/// which is how ggml stores a tensor of `ne = [columns, rows]`.
public final class FloatMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let values: UnsafeMutablePointer<Float>

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        values = .allocate(capacity: max(rows * columns, 1))
        values.initialize(repeating: 0, count: max(rows * columns, 1))
    }

    deinit { values.deallocate() }

    public func row(_ index: Int) -> UnsafeMutablePointer<Float> { values + index * columns }
}
