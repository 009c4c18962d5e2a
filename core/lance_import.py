"""Import lancedb without the generated REST client of its namespace layer.

``import lancedb`` imports ``lance_namespace``, which imports
``lance_namespace_urllib3_client``: a generated OpenAPI client (some 200 pydantic models and
the REST APIs of remote catalogs). Afterimage only opens local tables and never uses it, yet
it costs every process that opens the store (the capture service, the app, each CLI command)
~0.6 CPU s at start and ~19 MB resident (measured: ``import lancedb`` 1.14 -> 0.54 CPU s,
129 -> 110 MB). The ``lance`` package defers the same client for the same reason
(``lance/__init__.py``: "costs more than a second of import time").

:func:`import_lancedb` imports lancedb with the client's modules replaced by placeholders:
each name lancedb imports from them exists, as a class that cannot be instantiated
(:class:`NamespaceClientUnavailable` says why). If lancedb cannot be imported that way
(another version that uses the client at import time), the placeholders are removed and
lancedb is imported as usual; nothing else changes.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
import threading
import types
from typing import Any

_log = logging.getLogger(__name__)

CLIENT = "lance_namespace_urllib3_client"
_lock = threading.Lock()


class NamespaceClientUnavailable(RuntimeError):
    pass


class _Placeholder:
    def __init__(self, *_args: object, **_kwargs: object) -> None:
        raise NamespaceClientUnavailable(
            f"{type(self).__name__}: LanceDB's namespace REST client is not loaded in "
            "Afterimage (it opens local tables only)")


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        cls = type(name, (_Placeholder,), {"__module__": self.__name__})
        setattr(self, name, cls)
        return cls


class _ClientFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers the client's package and every module under it with a placeholder module."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == CLIENT or fullname.startswith(CLIENT + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _PlaceholderModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def client_replaced() -> bool:
    """Whether this process's lancedb was imported with the client's placeholders."""
    return isinstance(sys.modules.get(CLIENT), _PlaceholderModule)


def import_lancedb() -> Any:
    """The ``lancedb`` module, imported without the namespace REST client when possible."""
    module = sys.modules.get("lancedb")
    if module is not None:
        return module
    with _lock:
        module = sys.modules.get("lancedb")
        if module is not None:
            return module
        if CLIENT in sys.modules:  # the real client is already loaded (by lance, say)
            import lancedb

            return lancedb
        finder = _ClientFinder()
        sys.meta_path.insert(0, finder)
        try:
            import lancedb
        except Exception as exc:  # noqa: BLE001 - any failure: import it as usual
            _log.info("store: lancedb needs its namespace client (%s); importing it whole",
                      type(exc).__name__)
            sys.meta_path.remove(finder)
            for name, loaded in list(sys.modules.items()):
                # native extensions stay: initialising lancedb's Rust module twice panics
                native = str(getattr(loaded, "__file__", "") or "").endswith((".so", ".pyd"))
                if name.split(".")[0] in ("lancedb", "lance_namespace", CLIENT) and not native:
                    del sys.modules[name]
            import lancedb
        # the finder stays: a later import of a client module gets a placeholder too,
        # never half of the real client under the placeholder package
        return lancedb
