"""Loads the config once and builds the core facade for the CLI and the GUI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.logging_setup import setup_logging
from core.config import Config, Paths, load_config, resolve_paths
from core.errors import VaultNotFound

if TYPE_CHECKING:
    # core.memory pulls numpy, pyarrow, lancedb and the capture pipeline: imported only
    # when a command opens the vault, so `--version`, `--help` and usage errors stay fast.
    from core.memory import Memory


@dataclass(frozen=True)
class AppContext:
    config: Config
    paths: Paths

    @classmethod
    def load(cls, *, verbose: bool = False) -> AppContext:
        paths = resolve_paths()
        config = load_config(paths)
        setup_logging(paths.log_dir, verbose=verbose)
        return cls(config=config, paths=paths)

    def open_memory(self) -> Memory:
        from core.memory import Memory

        if not Memory.exists(self.paths):
            raise VaultNotFound(f"no vault in {self.paths.vault_dir} yet: run "
                                "`afterimage init` first")
        return Memory.open(self.config, self.paths)

    @contextmanager
    def memory(self) -> Iterator[Memory]:
        """The vault's Memory, closed (and so locked) when the block ends."""
        memory = self.open_memory()
        try:
            yield memory
        finally:
            memory.close()
