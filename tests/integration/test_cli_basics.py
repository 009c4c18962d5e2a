"""A newcomer's first contact with the CLI: clear messages and exit codes, nothing lost."""

from __future__ import annotations

import pytest

from tests.support import run_cli

pytestmark = pytest.mark.integration


def test_version_and_help(tmp_path):
    res = run_cli(tmp_path / "h", "--version")
    assert res.code == 0 and res.out.startswith("afterimage ")
    res = run_cli(tmp_path / "h", "--help")
    for command in ("init", "capture", "import", "search", "stats", "forget", "service", "ask",
                    "models", "doctor"):
        assert command in res.out


def test_commands_before_init_say_what_to_do(tmp_path):
    for args in (("stats",), ("search", "x"), ("capture", "--once"), ("forget", "--all")):
        res = run_cli(tmp_path / "h", *args)
        assert res.code == 4, args
        assert "afterimage init" in res.err and "Traceback" not in res.err


def test_init_sources_of_passphrase(tmp_path):
    home = tmp_path / "h"
    res = run_cli(home, "init", passphrase=None)  # no terminal, no env, no file
    assert res.code == 2 and "passphrase" in res.err
    assert not (home / "vault" / "vault.header").exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    res = run_cli(home, "init", "--passphrase-file", str(empty), passphrase=None)
    assert res.code == 2 and "empty" in res.err
    short = tmp_path / "short.txt"
    short.write_text("abc\n")
    res = run_cli(home, "init", "--passphrase-file", str(short), passphrase=None)
    assert res.code == 2 and "at least 8" in res.err
    good = tmp_path / "pass.txt"
    good.write_text("a long enough passphrase\n")
    res = run_cli(home, "init", "--passphrase-file", str(good), passphrase=None)
    assert res.code == 0, res.err
    header = (home / "vault" / "vault.header").read_bytes()
    again = run_cli(home, "init", "--passphrase-file", str(good), passphrase=None)
    assert again.code == 1 and "already exists" in again.err
    assert (home / "vault" / "vault.header").read_bytes() == header
    res = run_cli(home, "search", "x", "--passphrase-file", str(good), "--json", passphrase=None)
    assert res.code == 0 and res.json() == []


def test_reserved_commands_are_explained(tmp_path):
    res = run_cli(tmp_path / "h", "doctor", passphrase=None)
    assert res.code == 2 and "not in this version" in res.err


def test_bad_config_is_reported(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text("[capture]\ninterval_s = 'fast'\n")
    res = run_cli(home, "stats")
    assert res.code == 1 and "capture.interval_s" in res.err
