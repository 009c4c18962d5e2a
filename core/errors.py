"""The one error hierarchy of Afterimage's core.

Every failure that leaves ``core`` is one of these; wrappers convert LanceDB,
onnxruntime, RapidOCR, llama.cpp, X11 and crypto errors with ``raise ... from exc``.
Messages are written for the user and never contain user content (window
titles, OCR text, file contents): ids, counts and paths of our own files only.

::

    AfterimageError
    ├── ConfigError                 bad config file or environment override
    ├── VaultError
    │   ├── VaultNotFound           no vault at the data folder (run `afterimage init`)
    │   ├── VaultExists             `init` on a folder that already has a vault
    │   ├── VaultCorrupt            a header or key store that cannot be parsed/authenticated
    │   ├── VaultTooNew             written by a newer Afterimage (schema_version)
    │   ├── WrongPassphrase         unlock failed; nothing was changed
    │   ├── VaultLocked             an operation needs the archive unlocked
    │   ├── KeyMissing              a row's data key was destroyed (forgotten) or never stored
    │   └── DecryptionFailed        a ciphertext failed authentication (tampered/moved)
    ├── StoreError                  LanceDB failures, disk full, ...
    │   └── WriterBusy              another process holds the single-writer lock
    ├── CaptureError                screen grab / window info failures
    │   └── NoDisplay               no X display (or Wayland without portal)
    ├── ModelError                  a model file is missing, corrupt or fails to load
    │   └── DownloadFailed          a model download failed (offline, 404, checksum mismatch)
    ├── ImportFailed                an input file cannot be imported (bad image, unreadable)
    ├── InvalidInput                a bad argument from the user (time range, limit, ...)
    ├── IpcError                    talking to a running Afterimage process failed
    │   └── IpcUnavailable          no such process is running
    └── Cancelled                   the user cancelled a long job (shown silently)
"""

from __future__ import annotations


class AfterimageError(Exception):
    """Root of every error raised by ``core``."""


class ConfigError(AfterimageError):
    """The configuration file or an ``AFTERIMAGE_*`` override is invalid."""


class VaultError(AfterimageError):
    """Base for vault and key-store problems."""


class VaultNotFound(VaultError):
    """There is no vault in the data folder."""


class VaultExists(VaultError):
    """A vault already exists; refusing to overwrite it."""


class VaultCorrupt(VaultError):
    """A vault file cannot be parsed or authenticated."""


class VaultTooNew(VaultError):
    """The vault was written by a newer version of Afterimage."""


class WrongPassphrase(VaultError):
    """The passphrase does not unlock this vault. Nothing was changed."""


class VaultLocked(VaultError):
    """The operation needs the vault to be unlocked."""


class KeyMissing(VaultError):
    """The data key for a record does not exist (destroyed by forget, or orphaned)."""


class DecryptionFailed(VaultError):
    """A ciphertext failed authentication: it was modified or moved."""


class StoreError(AfterimageError):
    """The memory store failed (disk full, corrupt table, ...)."""


class WriterBusy(StoreError):
    """Another process is the writer of this vault."""


class CaptureError(AfterimageError):
    """Taking a screenshot or reading window information failed."""


class NoDisplay(CaptureError):
    """There is no display to capture."""


class ModelError(AfterimageError):
    """A model is missing, corrupt, or failed to load or run."""


class DownloadFailed(ModelError):
    """A user-started model download failed; nothing was installed."""


class ImportFailed(AfterimageError):
    """A file could not be imported."""


class InvalidInput(AfterimageError):
    """A user-supplied argument is invalid."""


class IpcError(AfterimageError):
    """A command to a running Afterimage process (over its local socket) failed."""


class IpcUnavailable(IpcError):
    """No running Afterimage process serves that endpoint."""


class Cancelled(AfterimageError):
    """A long job was cancelled by the user."""
