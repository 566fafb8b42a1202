"""Loads a sealed safetensors file straight into numpy arrays, in memory only: the plaintext is read from a
``SealedReader`` chunk by chunk (each authenticated first) into the arrays and never written anywhere.

safetensors layout: u64 little-endian header size N ‖ N bytes of JSON ``{name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__"?: {str: str}}`` ‖ the tensors' bytes (little-endian, C order),
offsets relative to the end of the header, contiguous and covering the rest of the file. Needs numpy
(``pip install "keyward[numpy]"``)."""

from __future__ import annotations

import json
import math
import os
import struct
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .client import Client
    from .evidence import EvidenceProvider

__all__ = ["Loaded", "SafetensorsError", "load", "load_stream", "load_with_info"]

#: Larger headers are refused (the reference implementation's limit).
MAX_HEADER_BYTES = 100_000_000

#: safetensors dtype → numpy dtype (little-endian). Types numpy lacks (BF16, F8_*) come back as unsigned
#: integers of the same width holding the bit patterns: in PyTorch, ``torch.from_numpy(a).view(torch.bfloat16)``.
DTYPES: dict[str, str] = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "F8_E4M3": "u1",
    "F8_E5M2": "u1",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}


class Readable(Protocol):
    """A binary source: a file opened "rb", ``io.BytesIO``, or a ``SealedReader``."""

    def read(self, size: int = ..., /) -> bytes: ...
    def readinto(self, buffer: Any, /) -> int: ...


class SafetensorsError(ValueError):
    """The plaintext is not a valid safetensors file (the sealed file itself verified)."""


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError('keyward.safetensors needs numpy: pip install "keyward[numpy]"') from None
    return numpy


def _read_exact(src: Readable, view: memoryview) -> int:
    got = 0
    while got < len(view):
        n = src.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def _parse_header(src: Readable) -> tuple[list[tuple[str, str, list[int], int, int]], dict[str, str]]:
    size_bytes = src.read(8)
    if len(size_bytes) != 8:
        raise SafetensorsError("the file is shorter than a safetensors header")
    (size,) = struct.unpack("<Q", size_bytes)
    if size > MAX_HEADER_BYTES:
        raise SafetensorsError(f"the safetensors header is larger than {MAX_HEADER_BYTES} bytes")
    text = src.read(size)
    if len(text) != size:
        raise SafetensorsError("the file ends inside the safetensors header")
    try:
        doc = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SafetensorsError("the safetensors header is not JSON") from None
    if not isinstance(doc, dict):
        raise SafetensorsError("the safetensors header is not a JSON object")
    metadata = doc.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise SafetensorsError("__metadata__ must map strings to strings")
    tensors = []
    for name, info in doc.items():
        if not isinstance(info, dict):
            raise SafetensorsError(f"tensor {name!r} is not described by an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in DTYPES:
            raise SafetensorsError(f"tensor {name!r} has an unsupported dtype {str(dtype)[:20]!r}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise SafetensorsError(f"tensor {name!r} has an invalid shape")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            raise SafetensorsError(f"tensor {name!r} has invalid data_offsets")
        begin, end = offsets
        tensors.append((name, dtype, shape, begin, end))
    tensors.sort(key=lambda t: (t[3], t[4]))
    return tensors, metadata


class Loaded(NamedTuple):
    #: name → numpy array (BF16 / F8 as their bit patterns, see DTYPES).
    arrays: dict[str, npt.NDArray[Any]]
    #: name → the safetensors dtype ("F32", "BF16", ...).
    dtypes: dict[str, str]
    #: the file's ``__metadata__``.
    metadata: dict[str, str]


def load_stream(src: Readable) -> dict[str, npt.NDArray[Any]]:
    """Reads a whole safetensors file from ``src`` (e.g. ``open_sealed(...)``) into numpy arrays, checking
    that the tensors tile the data exactly and that nothing follows them."""
    return load_stream_with_info(src).arrays


def load_stream_with_info(src: Readable) -> Loaded:
    """``load_stream`` plus each tensor's safetensors dtype and the file's metadata."""
    np_mod = _numpy()
    tensors, metadata = _parse_header(src)
    out: dict[str, npt.NDArray[Any]] = {}
    position = 0
    for name, dtype, shape, begin, end in tensors:
        item = np_mod.dtype(DTYPES[dtype])
        if begin != position or end - begin != math.prod(shape) * item.itemsize:
            raise SafetensorsError(f"tensor {name!r}: data_offsets do not match its shape and the tensors before it")
        array = np_mod.empty(shape, dtype=item)
        view = memoryview(array).cast("B") if array.size else memoryview(b"")
        if _read_exact(src, view) != end - begin:
            raise SafetensorsError(f"the file ends inside tensor {name!r}")
        out[name] = array
        position = end
    # Reading past the last tensor also completes the sealed file's verification (its final chunk and end).
    if src.read(1):
        raise SafetensorsError("bytes follow the last tensor")
    return Loaded(out, {name: dtype for name, dtype, *_ in tensors}, metadata)


def load(
    path: str | os.PathLike[str],
    client: Client,
    *,
    evidence: EvidenceProvider | None = None,
    key_id: str | None = None,
) -> dict[str, np.ndarray[Any, Any]]:
    """Opens the sealed safetensors file at ``path`` (releasing its data key by attestation, see
    ``keyward.open_sealed``) and returns ``{name: numpy array}``. No plaintext is written anywhere."""
    return load_with_info(path, client, evidence=evidence, key_id=key_id).arrays


def load_with_info(
    path: str | os.PathLike[str],
    client: Client,
    *,
    evidence: EvidenceProvider | None = None,
    key_id: str | None = None,
) -> Loaded:
    """``load`` plus each tensor's safetensors dtype (to restore BF16 in PyTorch) and the metadata."""
    from .sealed import open_sealed

    with open_sealed(path, client, evidence=evidence, key_id=key_id) as reader:
        return load_stream_with_info(reader)
