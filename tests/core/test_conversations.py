"""Chat history is encrypted, listed, and really forgotten."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from core.chat.answer import Answer, Citation
from core.chat.conversations import ConversationStore
from core.errors import InvalidInput, VaultLocked
from core.vault import KdfParams, Vault
from tests.support import decode_all_lance_versions, scan_files_for

PASS = "correct horse battery staple"
SECRET_Q = "where is the ZQXJ-kumquat-4471 invoice"
SECRET_A = "It was on the ZQXJ-marmalade-9120 page"
M1, M2, M3 = "a" * 32, "b" * 32, "c" * 32


def _answer(question: str, text: str, cites: list[str]) -> Answer:
    ts = datetime(2026, 3, 18, 12, tzinfo=UTC)
    return Answer(question=question, text=text, route="search", model="m", supported=True,
                  citations=tuple(Citation(n, mid, ts, "firefox", "Secret Title")
                                  for n, mid in enumerate(cites, 1)))


@pytest.fixture
def vault(tmp_path):
    v = Vault.create(tmp_path / "vault", PASS,
                     KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1))
    yield v
    v.close()


def test_turns_are_sealed_listed_and_grouped(vault, tmp_path):
    store = ConversationStore(tmp_path / "vault" / "chats", vault)
    conv, _ = store.add_turn(_answer(SECRET_Q, SECRET_A, [M1]))
    store.add_turn(_answer("follow-up", "more [1]", [M2]), conv)
    other, _ = store.add_turn(_answer("another", "x [1]", [M3]))
    convs = store.conversations()
    assert {c.id for c in convs} == {conv, other}
    first = next(c for c in convs if c.id == conv)
    assert first.turns == 2 and first.title == SECRET_Q
    turns = store.turns(conv)
    assert [t.question for t in turns] == [SECRET_Q, "follow-up"]
    assert turns[0].citations[0].id == M1 and turns[0].citations[0].title == "Secret Title"
    # Nothing the user typed or was told is on disk in the clear, in any version.
    for secret in ("ZQXJ-kumquat-4471", "ZQXJ-marmalade-9120", "Secret Title"):
        assert scan_files_for(tmp_path, secret) == []
        values, floats = decode_all_lance_versions(tmp_path / "vault" / "chats")
        assert not any(secret in v for v in values) and floats == []
    # Another process (no write keys of its own) cannot read them while locked.
    with Vault.open(tmp_path / "vault") as other:
        with pytest.raises(VaultLocked):
            ConversationStore(tmp_path / "vault" / "chats", other).turns()


def test_forget_turns_citing_removes_them_physically_even_locked(vault, tmp_path):
    root = tmp_path / "vault" / "chats"
    store = ConversationStore(root, vault)
    doomed_conv, doomed = store.add_turn(_answer(SECRET_Q, SECRET_A, [M1, M2]))
    keep_conv, kept = store.add_turn(_answer("kept", "kept [1]", [M3]))
    values_before, _ = decode_all_lance_versions(root)
    assert any(doomed in v for v in values_before)
    vault.lock()  # forgetting never needs the passphrase
    assert store.forget_turns_citing([M2]) == 1
    assert store.forget_turns_citing([M2]) == 0
    values, _ = decode_all_lance_versions(root)
    assert not any(doomed in v for v in values)  # gone from every version
    assert any(kept in v for v in values)
    vault.unlock(PASS)
    assert [t.id for t in store.turns()] == [kept]
    assert store.forget_conversation(keep_conv) == 1 and store.turns() == []
    with pytest.raises(InvalidInput):
        store.forget_turns_citing(["x'; DROP"])


def test_forget_all_removes_the_folder(vault, tmp_path):
    root = tmp_path / "vault" / "chats"
    store = ConversationStore(root, vault)
    store.add_turn(_answer(SECRET_Q, SECRET_A, [M1]))
    assert store.live_key_ids()
    assert store.forget_all() == 1 and not root.exists()
    assert store.conversations() == []
