"""The sealed capture-gap log: the service records why it held capture (idle, screen
locked, paused, ...) and when it ran; an unlocked vault reads the reasons back for the
timeline; the file holds no readable reason or time."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import VaultLocked
from core.gap_log import GAP_FILE, GapRecord, gaps_from_records, reason_for
from core.privacy.pause import PauseControl
from core.timeline import TimelineGap
from tests.capture_support import PASSPHRASE
from tests.core.test_service_schedule import Rig

pytestmark = pytest.mark.filterwarnings("ignore:table_names:DeprecationWarning")

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_service_records_holds_and_runs_sealed(tmp_path):
    r = Rig(tmp_path, "[capture]\ninterval_s = 3\nidle_after_s = 60\nmin_gap_s = 1\nhold_s = 0\n"
                      "region_ocr = false\n")
    try:
        r.service.request_stop()
        assert r.service.run() == 0  # a run: start and stop records
        start = r.clock.wall()
        r.step(3.0)
        r.signals.idle = 61.0
        for _ in range(10):
            r.step(3.0)  # 30 s idle
        r.signals.idle = 0.0
        r.signals.locked = True
        for _ in range(20):
            r.step(3.0)  # 60 s locked
        r.signals.locked = False
        r.step(3.0)
        PauseControl(r.paths.run_dir, clock=r.clock.wall).pause(timedelta(minutes=15))
        r.step(3.0)
        r.step(120.0)
        PauseControl(r.paths.run_dir).resume()
        r.step(3.0)
        assert r.service.state == "running"
        assert r.service._shutdown() == 0
        r.clock.advance(1800)  # not running for half an hour
        from core.service import CaptureService, ServiceParts

        parts = ServiceParts(screen=r.screen, windows=r.windows, signals=r.signals,
                             battery=lambda: False, monotonic=r.clock.monotonic,
                             wall=r.clock.wall)
        again = CaptureService(r.memory, r.config, r.paths, parts, ocr=r.ocr, threaded=False)
        again.request_stop()
        again.run()
        end = r.clock.wall() + timedelta(seconds=1)
        with pytest.raises(VaultLocked):
            r.memory.capture_gaps(start, end)
        raw = (r.paths.vault_dir / "state" / GAP_FILE).read_bytes()
        lines = raw.splitlines()
        for line in lines:
            # every line is base64 (a plaintext record is not), and what it encodes holds no
            # reason or date in clear (searching the base64 text itself would find a word
            # like "stop" in it by chance about once in a thousand runs)
            sealed = base64.b64decode(line, validate=True)
            for word in (b"idle", b"locked", b"paused", b"start", b"stop", b"2025"):
                assert word not in sealed.lower()
        assert len(lines) == 8 and len({len(line) for line in lines}) == 1  # padded
        r.memory.unlock(PASSPHRASE)
        gaps = r.memory.capture_gaps(start, end)
        reasons = [(g.reason, round(g.seconds)) for g in gaps]
        assert reasons == [("idle", 30), ("locked", 60), ("paused", 123),
                           ("not running", 1800)]
        # Forget everything removes the log with the rest of the capture state.
        r.memory.forget_all()
        assert not (r.paths.vault_dir / "state" / GAP_FILE).exists()
    finally:
        r.memory.close()


def test_a_torn_line_is_skipped_and_the_rest_read(tmp_path):
    r = Rig(tmp_path, "[capture]\nregion_ocr = false\nhold_s = 0\n")
    try:
        log = r.memory.gap_log()
        log.append(GapRecord("paused", T0, T0 + timedelta(minutes=5)))
        with open(log.path, "ab") as fh:
            fh.write(b"QUlQUzEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nnot base64 at all!\n")
        log.append(GapRecord("idle", T0 + timedelta(minutes=9), T0 + timedelta(minutes=12)))
        r.memory.unlock(PASSPHRASE)
        records = r.memory.gap_log().records()
        assert [rec.kind for rec in records] == ["paused", "idle"]
    finally:
        r.memory.close()


def test_gaps_are_clipped_and_reasons_matched():
    records = [GapRecord("start", T0, T0), GapRecord("idle", T0 + timedelta(minutes=10),
                                                     T0 + timedelta(minutes=40)),
               GapRecord("stop", T0 + timedelta(hours=1), T0 + timedelta(hours=1)),
               GapRecord("start", T0 + timedelta(hours=3), T0 + timedelta(hours=3))]
    gaps = gaps_from_records(records, T0 + timedelta(minutes=30), T0 + timedelta(hours=2))
    assert [(g.reason, g.seconds) for g in gaps] == [("idle", 600), ("not running", 3600)]
    # a gap between two moments takes the reason that covers most of it
    between = TimelineGap(T0 + timedelta(minutes=9), T0 + timedelta(minutes=41))
    recorded = gaps_from_records(records, T0, T0 + timedelta(hours=4))
    assert reason_for(between, recorded) == "idle"
    long = TimelineGap(T0 + timedelta(minutes=50), T0 + timedelta(hours=3, minutes=5))
    assert reason_for(long, recorded) == "not running"
    assert reason_for(TimelineGap(T0 + timedelta(hours=5), T0 + timedelta(hours=6)),
                      recorded) is None


def test_later_reads_open_only_new_records_and_see_them(tmp_path):
    r = Rig(tmp_path, "[capture]\nregion_ocr = false\nhold_s = 0\n")
    try:
        r.memory.unlock(PASSPHRASE)
        log = r.memory.gap_log()
        day = (T0, T0 + timedelta(days=1))
        log.append(GapRecord("paused", T0, T0 + timedelta(minutes=5)))
        assert [g.reason for g in r.memory.capture_gaps(*day)] == ["paused"]
        # a line being written (no newline yet) is left for the next read
        with open(log.path, "ab") as fh:
            fh.write(b"QUlQUzEA")
        assert [g.reason for g in r.memory.capture_gaps(*day)] == ["paused"]
        log.path.write_bytes(log.path.read_bytes()[:-8])
        log.append(GapRecord("locked", T0 + timedelta(hours=1), T0 + timedelta(hours=2)))
        assert [g.reason for g in r.memory.capture_gaps(*day)] == ["paused", "locked"]
        offset, cached = r.memory._gap_cache
        assert offset == log.path.stat().st_size and len(cached) == 2
        r.memory.lock()
        assert r.memory._gap_cache is None  # decrypted records do not outlive the unlock
    finally:
        r.memory.close()
