"""keyward workload SDK: release keys from a keyward server by attestation (challenge → evidence bound to an
in-memory TEE key → attest → release → JWE opened locally) and read keyward sealed files without writing
plaintext anywhere."""

from .client import Client, DataKey, KeyRequest, ReleasedKey
from .errors import ERROR_STATUS, ClientError, EvidenceProviderError, KeywardError, SealedFileError
from .evidence import CommandEvidenceProvider, ConfigfsTsmProvider, EvidenceProvider, GpuCommandProvider, compose_providers
from .sealed import SealedHeader, SealedReader, SealedWriter, open_sealed, read_sealed_header, seal_file, unseal_file

__version__ = "0.1.0"

__all__ = [
    "ERROR_STATUS",
    "Client",
    "ClientError",
    "CommandEvidenceProvider",
    "ConfigfsTsmProvider",
    "DataKey",
    "EvidenceProvider",
    "EvidenceProviderError",
    "GpuCommandProvider",
    "KeyRequest",
    "KeywardError",
    "ReleasedKey",
    "SealedFileError",
    "SealedHeader",
    "SealedReader",
    "SealedWriter",
    "compose_providers",
    "open_sealed",
    "read_sealed_header",
    "seal_file",
    "unseal_file",
]
