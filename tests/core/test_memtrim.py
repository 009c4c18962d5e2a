"""glibc malloc settings for the capture service (core/memtrim.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.memtrim import MALLOC_TUNABLES, tuned_environment

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")


def test_the_settings_are_added_once_and_the_users_own_are_kept() -> None:
    env = tuned_environment({"PATH": "/bin", "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536:"
                                                               "glibc.malloc.arena_max=2"})
    assert env is not None
    parts = env["GLIBC_TUNABLES"].split(":")
    # the user's threshold wins; their arena setting stays; huge pages are added
    assert parts == ["glibc.malloc.mmap_threshold=65536", "glibc.malloc.arena_max=2",
                     "glibc.malloc.hugetlb=1"]
    assert env["PATH"] == "/bin"
    assert tuned_environment(env) is None  # already done: no second re-exec


def test_a_fresh_environment_gets_every_setting() -> None:
    env = tuned_environment({})
    assert env is not None and env["GLIBC_TUNABLES"].split(":") == list(MALLOC_TUNABLES)


def test_the_restart_keeps_the_pid_and_the_arguments(tmp_path) -> None:
    script = ("import os, sys\n"
              "from core.memtrim import restart_with_malloc_tunables\n"
              "print(os.getpid(), sys.argv[1:], os.environ.get('GLIBC_TUNABLES'), flush=True)\n"
              "restart_with_malloc_tunables()\n")
    path = tmp_path / "probe.py"
    path.write_text(script)
    out = subprocess.run([sys.executable, str(path), "one", "two"], capture_output=True,
                         text=True, check=True,
                         env={"PYTHONPATH": str(__import__("tests.support").support.REPO),
                              "PATH": "/usr/bin:/bin"}).stdout.splitlines()
    assert len(out) == 2  # it ran twice: before and after the re-exec, then stopped
    first, second = out
    assert first.split()[0] == second.split()[0]  # same process
    assert "['one', 'two']" in first and "['one', 'two']" in second
    assert "None" in first and "glibc.malloc.hugetlb=1" in second
