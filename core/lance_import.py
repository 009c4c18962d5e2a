"""Import lancedb without loading the generated REST client of its namespace layer.

``import lancedb`` imports ``lance_namespace``, which imports
``lance_namespace_urllib3_client``: a generated OpenAPI client (some 200 pydantic models and
the REST APIs of remote catalogs). Afterimage opens local tables, whose operations never need
it, yet it costs every process that opens the store (the capture service, the app, each CLI
command) ~0.6 CPU s at start and ~19 MB resident (``bench/bench_lance_import.py``). The
``lance`` package defers the same client for the same reason (``lance/__init__.py``: "costs
more than a second of import time").

:func:`import_lancedb` imports lancedb with the client's modules answered by stand-ins: each
name lancedb imports from them is a class that loads the real client the first time it is
used (instantiated, or a class attribute read) and forwards to the real class. So nothing
behaves differently; a process that never touches a namespace never pays for the client.
(lancedb's ``list_tables`` builds one of those models even for a local folder, so the store
lists its tables from the folder itself: ``core/store.py`` ``_table_names``.) If lancedb
cannot be imported with stand-ins (another version), it is imported as usual.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import logging
import sys
import threading
import types
from typing import Any

_log = logging.getLogger(__name__)

CLIENT = "lance_namespace_urllib3_client"
_lock = threading.RLock()


def _real_client_class(module: str, name: str) -> Any:
    """Load the real client (once: the stand-in modules make way for it) and return one of
    its classes."""
    with _lock:
        if client_replaced():
            sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _ClientFinder)]
            for loaded in [m for m in sys.modules if m == CLIENT or m.startswith(CLIENT + ".")]:
                del sys.modules[loaded]
            _log.info("store: loading LanceDB's namespace client (first use)")
            importlib.import_module(CLIENT)
        return getattr(importlib.import_module(module), name)


class _StandInMeta(type):
    _real_module: str

    def _real(cls) -> Any:
        return _real_client_class(cls._real_module, cls.__name__)

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(cls._real(), name)

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls._real())

    def __call__(cls, *args: object, **kwargs: object) -> Any:
        return cls._real()(*args, **kwargs)


class _StandInModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        # ``from pkg.models import X``: X lives in pkg.models; ``from pkg import X`` likewise
        cls = _StandInMeta(name, (), {"__module__": self.__name__,
                                      "_real_module": self.__name__})
        setattr(self, name, cls)
        return cls


class _ClientFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers the client's package and every module under it with a stand-in module."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == CLIENT or fullname.startswith(CLIENT + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def client_replaced() -> bool:
    """Whether the client's modules are stand-ins now (the real client not loaded)."""
    return isinstance(sys.modules.get(CLIENT), _StandInModule)


def import_lancedb() -> Any:
    """The ``lancedb`` module, imported without loading the namespace client if possible."""
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
        # the finder stays until a stand-in is used: a later import of a client module gets
        # a stand-in too, never half of the real client under the stand-in package
        return lancedb
