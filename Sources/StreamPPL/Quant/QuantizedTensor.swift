import StreamPPLKernels

extension QuantizedMatrix {
    /// A GGUF tensor's blocks as a matrix: 2-D tensors; a 1-D tensor is one row, and higher dimensions are
    /// folded into the rows. The kernels trust their shapes, so the one fact they rely on is checked here
    /// (the GGUF reader has already rejected a row length that is not a whole number of blocks).
    public init(tensor: GGUFTensorInfo, data: UnsafeRawPointer) {
        let columns = tensor.dimensions.first ?? 1
        precondition(columns % tensor.type.blockElements == 0, "\(tensor.name): \(columns) columns is not a whole number of \(tensor.type.name) blocks")
        self.init(type: tensor.type, rows: columns == 0 ? 0 : tensor.elementCount / columns, columns: columns, data: data)
    }
}
