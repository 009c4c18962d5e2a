"""One writer (R8) and a reader that sees another process's new memory within 5 s."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import WriterBusy
from tests.support import REPO
from tests.vaultkit import PASS, new_memory, open_memory, synthetic, utc

_WRITER = """
import sys, time
from pathlib import Path
from tests.vaultkit import open_memory, synthetic, utc
mem = open_memory(Path(sys.argv[1]))
mem.acquire_writer("capture")
print("writer", flush=True)
for line in sys.stdin:
    if line.strip() == "write":
        [rid] = mem.store_encoded([synthetic(utc(2024, 7, 1, 9), "written elsewhere")])
        print(rid, time.time(), flush=True)
    elif line.strip() == "quit":
        break
mem.close()
"""


@pytest.fixture
def writer(tmp_path: Path):
    home = tmp_path / "home"
    mem = new_memory(home)
    mem.store_encoded([synthetic(utc(2024, 7, 1, 8), "first")])
    mem.close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(home)], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "writer"
    yield home, proc
    if proc.poll() is None:
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        proc.wait(30)


def test_a_second_writer_is_refused_with_a_clear_message(writer) -> None:
    home, proc = writer
    mem = open_memory(home)
    with pytest.raises(WriterBusy) as err:
        mem.store_encoded([synthetic(utc(2024, 7, 1, 10), "must not be stored")])
    message = str(err.value)
    assert "already writing" in message and f"pid {proc.pid}" in message
    assert "capture" in message and "Only one writer" in message
    assert mem._store.count() == 1
    mem.close()


def test_a_reader_sees_a_memory_written_by_another_process_within_5s(writer) -> None:
    home, proc = writer
    reader = open_memory(home)
    reader.unlock(PASS)
    assert len(reader._ensure_index()) == 1  # the decrypted index is built
    proc.stdin.write("write\n")
    proc.stdin.flush()
    rid, written_at = proc.stdout.readline().split()
    seen = None
    while time.time() - float(written_at) < 5:
        if (record := reader.get(rid)) is not None:
            seen = time.time()
            break
        time.sleep(0.1)
    assert seen is not None, "the reader did not see the new memory within 5 s"
    assert record.text == "written elsewhere"
    reader.close()
