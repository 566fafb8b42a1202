"""Seals the vectors' plaintexts with the Python SDK and writes manifest.json (run make-node.mjs first:
it writes the plaintexts and the Node-sealed files). See README.md."""

import hashlib
import io
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "python", "src"))

from keyward.sealed import read_sealed_header, seal_stream  # noqa: E402


def plaintext_of(length: int) -> bytes:
    """The same deterministic plaintext as make-node.mjs: SHA-256("keyward sealed vector" ‖ u32 counter) blocks."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(b"keyward sealed vector" + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def main() -> None:
    with open(os.path.join(here, "params.json")) as f:
        params = json.load(f)
    data_key = bytes.fromhex(params["dataKeyHex"])
    manifest = {"params": "params.json", "vectors": []}
    for vector in params["vectors"]:
        plaintext = plaintext_of(vector["plaintextLength"])
        with open(os.path.join(here, vector["plaintext"]), "rb") as f:
            if f.read() != plaintext:
                raise SystemExit(f"{vector['plaintext']} differs from the Python generator")
        sink = io.BytesIO()
        seal_stream(
            io.BytesIO(plaintext),
            sink,
            data_key,
            key_id=params["keyId"],
            key_version=params["keyVersion"],
            wrapped_data_key=params["wrappedDataKey"],
            chunk_size=params["chunkSize"],
            name=vector["plaintext"],
        )
        with open(os.path.join(here, f"{vector['id']}.python.sealed"), "wb") as f:
            f.write(sink.getvalue())
        for sealed_by in ("node", "python"):
            file = f"{vector['id']}.{sealed_by}.sealed"
            header = read_sealed_header(os.path.join(here, file))
            manifest["vectors"].append(
                {
                    "file": file,
                    "sealedBy": sealed_by,
                    "plaintext": vector["plaintext"],
                    "plaintextSha256": hashlib.sha256(plaintext).hexdigest(),
                    "headerSha256": header.sha256,
                    "sealedSize": os.path.getsize(os.path.join(here, file)),
                }
            )
    with open(os.path.join(here, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("wrote *.python.sealed and manifest.json")


if __name__ == "__main__":
    main()
