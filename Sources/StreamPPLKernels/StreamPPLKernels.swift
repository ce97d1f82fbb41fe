// StreamPPLKernels: the number crunching of streamppl, and nothing else. Quant/ reads GGUF weight blocks
// (dequantize, quantized dot products and matrix-vector products), Dense/ holds Float32 buffers, matrix
// products over OpenBLAS, vector math and rotary embedding, Attention/ the one attention kernel the caches share.
//
// These kernels trust their callers. Every pointer, count, shape and block type they are handed has been
// checked by the caller (StreamPPL: the GGUF reader checks each tensor's type, row length and byte range,
// the model config checks the dimensions, the caches size their buffers), so they check nothing themselves:
// this module alone is built with -Ounchecked (Package.swift), and preconditions here are documentation
// that release builds drop. Nothing that parses a file, text or a setting belongs here, and this module
// never imports StreamPPL.
