"""Chat history, encrypted like memories (SECURITY.md R1, R7).

One LanceDB table ``turns`` in ``<vault>/chats``. Plaintext columns: the turn id and the
conversation id (random), the hour bucket, the data key id, and ``cites``: the random ids
of the memories the answer cites (allowed by R1: random ids only). Everything a user
typed or was told (question, answer, citation times/apps/titles, route, model) is one
sealed JSON payload, AES-256-GCM with the bucket's data key, bound to its row.

Because ``cites`` is readable without the passphrase, :meth:`ConversationStore.
forget_turns_citing` works while the vault is locked, as forgetting must. Deletions are made
physical the same way as for memories: materialised by compaction, then every old version
is removed.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from core.chat.answer import Answer, Citation
from core.errors import DecryptionFailed, InvalidInput, KeyMissing, StoreError
from core.records import bucket_of
from core.shred import shred_deleted
from core.vault import FieldRef, Vault, open_field, seal_field

_log = logging.getLogger(__name__)

TURNS = "turns"
_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("conversation", pa.string()),
    ("seq", pa.int64()),
    ("bucket", pa.int64()),
    ("key_id", pa.string()),
    ("cites", pa.string()),
    ("payload", pa.binary()),
])


@dataclass(frozen=True)
class Turn:
    id: str
    conversation: str
    seq: int
    created: datetime
    question: str
    answer: str
    citations: tuple[Citation, ...]
    route: str
    model: str | None
    supported: bool


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    started: datetime
    updated: datetime
    turns: int
    title: str  # the first question


def _check_id(value: str) -> str:
    if not value or not value.isalnum() or len(value) > 64:
        raise InvalidInput("invalid conversation or memory id")
    return value


def _quote(ids: Iterable[str]) -> str:
    return ", ".join(f"'{_check_id(i)}'" for i in ids)


def _encode(answer: Answer, created: datetime) -> bytes:
    data = {
        "v": 1, "created": created.isoformat(), "q": answer.question, "a": answer.text,
        "route": answer.route, "model": answer.model, "supported": answer.supported,
        "cites": [[c.n, c.id, c.timestamp.isoformat(), c.app, c.title]
                  for c in answer.citations],
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _decode(row_id: str, conversation: str, seq: int, blob: bytes) -> Turn:
    try:
        data = json.loads(blob.decode("utf-8"))
        return Turn(
            id=row_id, conversation=conversation, seq=seq,
            created=datetime.fromisoformat(data["created"]), question=str(data["q"]),
            answer=str(data["a"]), route=str(data["route"]), model=data.get("model"),
            supported=bool(data.get("supported")),
            citations=tuple(Citation(n=int(c[0]), id=str(c[1]),
                                     timestamp=datetime.fromisoformat(c[2]), app=str(c[3]),
                                     title=str(c[4])) for c in data.get("cites", [])))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DecryptionFailed("a chat turn is malformed after decryption") from exc


class ConversationStore:
    """Encrypted chat turns in their own LanceDB folder."""

    def __init__(self, root: Path, vault: Vault) -> None:
        self._root = root
        self._vault = vault
        self._db: Any = None
        self._table: Any = None

    def _open(self, create: bool) -> Any | None:
        if self._table is not None:
            return self._table
        if not create and not (self._root / f"{TURNS}.lance").exists():
            return None
        try:
            from core.lance_import import import_lancedb

            lancedb = import_lancedb()

            self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
            from core.store import lance_session, table_names

            if self._db is None:
                self._db = lancedb.connect(str(self._root), session=lance_session())
            if TURNS in table_names(self._root):
                self._table = self._db.open_table(TURNS)
            elif create:
                self._table = self._db.create_table(TURNS, schema=_SCHEMA, exist_ok=True)
        except Exception as exc:  # noqa: BLE001 - lancedb raises many types
            raise StoreError(f"the chat history could not be opened ({type(exc).__name__})") \
                from exc
        return self._table

    def _arrow(self) -> pa.Table | None:
        table = self._open(create=False)
        if table is None:
            return None
        try:
            table.checkout_latest()
            result: pa.Table = table.to_arrow()
            return result
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"the chat history could not be read ({type(exc).__name__})") \
                from exc

    # -- writing ------------------------------------------------------------------------------
    def add_turn(self, answer: Answer, conversation: str | None = None) -> tuple[str, str]:
        """Seal and store one question/answer. Returns (conversation id, turn id)."""
        conv = _check_id(conversation) if conversation else secrets.token_hex(16)
        created = datetime.now(UTC)
        turn_id = secrets.token_hex(16)
        seq = 0
        data = self._arrow()
        if data is not None and conversation:
            seqs = [s for c, s in zip(data.column("conversation").to_pylist(),
                                      data.column("seq").to_pylist(), strict=True) if c == conv]
            seq = max(seqs) + 1 if seqs else 0
        bucket = bucket_of(created)
        key = self._vault.write_key(bucket)
        row = {
            "id": [turn_id], "conversation": [conv], "seq": [seq], "bucket": [bucket],
            "key_id": [key.key_id], "cites": [",".join(answer.cited_ids)],
            "payload": [seal_field(key, _encode(answer, created),
                                   FieldRef(TURNS, "payload", turn_id))],
        }
        table = self._open(create=True)
        assert table is not None
        try:
            table.add(pa.table(row, schema=_SCHEMA))
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"the chat turn could not be saved ({type(exc).__name__})") \
                from exc
        return conv, turn_id

    # -- reading (needs the vault unlocked) ---------------------------------------------------
    def turns(self, conversation: str | None = None) -> list[Turn]:
        data = self._arrow()
        if data is None:
            return []
        cols = {name: data.column(name).to_pylist() for name in _SCHEMA.names}
        out = []
        unreadable = 0
        for i, row_id in enumerate(cols["id"]):
            if conversation is not None and cols["conversation"][i] != conversation:
                continue
            try:
                key = self._vault.read_key(cols["key_id"][i])
                blob = open_field(key, cols["payload"][i], FieldRef(TURNS, "payload", row_id))
            except (KeyMissing, DecryptionFailed):
                unreadable += 1
                continue
            out.append(_decode(row_id, cols["conversation"][i], int(cols["seq"][i]), blob))
        if unreadable:
            _log.warning("skipped %d chat turns that could not be decrypted", unreadable)
        out.sort(key=lambda t: (t.created, t.seq))
        return out

    def conversations(self) -> list[ConversationSummary]:
        by_conv: dict[str, list[Turn]] = {}
        for turn in self.turns():
            by_conv.setdefault(turn.conversation, []).append(turn)
        out = [ConversationSummary(id=cid, started=ts[0].created, updated=ts[-1].created,
                                   turns=len(ts), title=ts[0].question)
               for cid, ts in by_conv.items()]
        out.sort(key=lambda c: c.updated, reverse=True)
        return out

    # -- forgetting (works while locked) ------------------------------------------------------
    def _delete(self, where: str) -> int:
        table = self._open(create=False)
        if table is None:
            return 0
        try:
            before = int(table.count_rows())
            table.delete(where)
            removed = before - int(table.count_rows())
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"chat turns could not be deleted ({type(exc).__name__})") \
                from exc
        if removed:
            self.purge()
        return removed

    def forget_conversation(self, conversation: str) -> int:
        return self._delete(f"conversation = '{_check_id(conversation)}'")

    def forget_turns_citing(self, memory_ids: Sequence[str]) -> int:
        """Physically remove every turn whose answer cites one of ``memory_ids``."""
        wanted = {_check_id(i) for i in memory_ids}
        data = self._arrow() if wanted else None
        if data is None:
            return 0
        doomed = [row_id for row_id, cites in zip(data.column("id").to_pylist(),
                                                   data.column("cites").to_pylist(),
                                                   strict=True)
                  if cites and wanted.intersection(cites.split(","))]
        removed = 0
        for start in range(0, len(doomed), 500):
            removed += self._delete(f"id IN ({_quote(doomed[start:start + 500])})")
        _log.info("forgot %d chat turns citing forgotten memories", removed)
        return removed

    def purge(self) -> None:
        """Make deleted turns physical and drop every old version (``core.shred``)."""
        table = self._open(create=False)
        if table is None:
            return
        try:
            # Re-write the survivors of fragments holding deleted turns, drop old versions.
            shred_deleted(table, self._root / f"{TURNS}.lance")
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"deleted chat turns could not be removed from disk "
                             f"({type(exc).__name__})") from exc

    def forget_all(self) -> int:
        data = self._arrow()
        count = 0 if data is None else data.num_rows
        self.close()
        if self._root.exists():
            shutil.rmtree(self._root)
        return count

    def live_key_ids(self) -> set[str]:
        """Data key ids still used by chat turns (for the vault's orphan-key repair)."""
        data = self._arrow()
        return set() if data is None else set(data.column("key_id").to_pylist())

    def close(self) -> None:
        self._table = None
        self._db = None
