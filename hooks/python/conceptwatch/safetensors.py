"""A safetensors reader in numpy alone (no new dependency for the hook).

The format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, and
"__metadata__": {str: str}}, then the tensors' bytes, row-major, little-endian,
offsets relative to the end of the header. safetensors/safetensors.h writes it.
"""

import json
import struct

import numpy as np

__all__ = ["read_safetensors"]

# Those the C++ writer uses (F32, F64, I64) and the common others.
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    """Reads a .safetensors file: returns (tensors, metadata), tensors a dict
    of name -> numpy array (a copy, writable), metadata the header's
    "__metadata__" dict ({} when absent). Raises ValueError naming what is
    wrong with a file that is not safetensors."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError("%s: header length %d runs past the end of the file" % (path, n))
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise ValueError("%s: the header is not JSON: %s" % (path, e))
    body = memoryview(data)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        dtype = entry["dtype"]
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        if dtype == "BF16":  # numpy has none: widen the bit patterns to float32
            bits = np.frombuffer(body[begin:end], dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif dtype in _DTYPES:
            array = np.frombuffer(body[begin:end], dtype=_DTYPES[dtype])
        else:
            raise ValueError("%s: tensor %s has dtype %s, which this reader does not know" % (path, name, dtype))
        if array.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError("%s: tensor %s holds %d values, not %s" % (path, name, array.size, shape))
        tensors[name] = array.reshape(shape).astype(array.dtype.newbyteorder("="), copy=True)
    return tensors, metadata
