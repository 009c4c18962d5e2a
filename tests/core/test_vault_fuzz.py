"""T8 property tests for the files and messages this release added: the forget journal and
IPC requests. Arbitrary bytes give one clear error (or a refusal), never a crash."""

from __future__ import annotations

import socket
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import StoreError
from core.forget import JOURNAL_NAME, read_journal
from core.ipc import IpcServer, request

_SETTINGS = settings(max_examples=80, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(st.binary(max_size=400))
def test_forget_journal_on_arbitrary_bytes_is_store_error_or_sane(tmp_path: Path,
                                                                  data: bytes) -> None:
    (tmp_path / JOURNAL_NAME).write_bytes(data)
    try:
        pending = read_journal(tmp_path)
    except StoreError as exc:
        assert "journal" in str(exc)
        return
    assert pending is not None
    assert all(isinstance(i, str) and i.isalnum() for i in pending.ids)
    assert all(isinstance(b, int) for b in pending.buckets)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                     lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                     max_leaves=20)


@_SETTINGS
@given(st.fixed_dictionaries({"ids": _JSON, "buckets": _JSON, "keys": _JSON}) | _JSON)
def test_forget_journal_on_arbitrary_json_is_store_error_or_sane(tmp_path: Path,
                                                                 doc: object) -> None:
    import json

    (tmp_path / JOURNAL_NAME).write_text(json.dumps(doc))
    try:
        read_journal(tmp_path)
    except StoreError:
        pass


def test_ipc_server_survives_arbitrary_requests(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    calls: list[dict] = []
    with IpcServer(run_dir, "gui", {"lock": lambda a: calls.append(a) or {}}) as server:

        @_SETTINGS
        @given(st.binary(max_size=2000))
        def send_garbage(data: bytes) -> None:
            with socket.socket(socket.AF_UNIX) as conn:
                conn.settimeout(3)
                conn.connect(str(server.socket_path))
                conn.sendall(data + b"\n")
                reply = conn.recv(4096)
            assert b'"ok": false' in reply

        send_garbage()
        assert calls == []  # nothing got through without the token
        assert request(run_dir, "gui", "lock") == {"ok": True}
        assert calls == [{}]
