"""An F32 copy of a GGUF model for llama.cpp references.

llama.cpp's quantized matrix products quantize the activations to 8 bits, streamppl's do not; on the same
weights dequantized to F32 both compute in float32, so a reference run uses this copy.
"""
import gzip
import os
import shutil

import numpy as np


def write_f32_copy(src, dst):
    """The GGUF at src (or a gzipped one, .gguf.gz) with every tensor dequantized to F32, all metadata kept."""
    import gguf
    if src.endswith(".gz"):
        # gguf-py memory-maps its input, so a gzipped model is unpacked next to the copy first
        with gzip.open(src, "rb") as packed, open(dst + ".unpacked", "wb") as plain:
            shutil.copyfileobj(packed, plain)
        write_f32_copy(dst + ".unpacked", dst)
        os.remove(dst + ".unpacked")
        return
    reader = gguf.GGUFReader(src)
    arch = reader.get_field(gguf.Keys.General.ARCHITECTURE).contents()
    writer = gguf.GGUFWriter(dst + ".partial", arch)
    for field in reader.fields.values():
        # GGUF.* are the reader's virtual fields; GGUFWriter writes the architecture itself
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        value = field.contents()
        if field.name == gguf.Keys.General.FILE_TYPE:
            value = int(gguf.LlamaFileType.ALL_F32)
        writer.add_key_value(field.name, value, value_type, sub_type=sub_type)
    for tensor in reader.tensors:
        weights = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32, copy=False)
        writer.add_tensor(tensor.name, weights)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(dst + ".partial", dst)
