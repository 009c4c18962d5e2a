"""CLI: pause/resume, service --status, autostart entry, privacy lists (sealed) — no display."""

from __future__ import annotations

from tests.support import assert_secret_absent, run_cli


def test_pause_resume_and_status_without_a_service(tmp_path):
    home = tmp_path / "home"
    assert run_cli(home, "init").code == 0
    status = run_cli(home, "service", "--status", "--json", passphrase=None).json()
    assert status["running"] is False and status["state"] == "not_started"
    paused = run_cli(home, "pause", "15m", "--json", passphrase=None).json()
    assert paused["paused"] is True and paused["until"]
    assert run_cli(home, "service", "--status", "--json", passphrase=None).json()["paused"]
    assert run_cli(home, "pause", "--json", passphrase=None).json()["until"] is None
    assert run_cli(home, "resume", "--json", passphrase=None).json() == {
        "paused": False, "was_paused": True}
    bad = run_cli(home, "pause", "soon", passphrase=None)
    assert bad.code == 2 and "15m" in bad.err
    stats = run_cli(home, "stats", "--json", passphrase=None).json()
    assert stats["service"]["running"] is False and stats["redacted_total"] == 0


def test_autostart_entry_is_installed_and_removed(tmp_path):
    home = tmp_path / "home"
    xdg = tmp_path / "xdg"
    env = {"XDG_CONFIG_HOME": str(xdg)}
    res = run_cli(home, "service", "--install-autostart", "--json", env=env, passphrase=None)
    assert res.code == 0, res.err
    entry = xdg / "autostart" / "afterimage-service.desktop"
    text = entry.read_text()
    assert "[Desktop Entry]" in text and "service" in text.split("Exec=")[1].splitlines()[0]
    assert run_cli(home, "service", "--remove-autostart", "--json", env=env,
                   passphrase=None).json() == {"autostart": False, "removed": True}
    assert not entry.exists()


def test_privacy_lists_are_sealed_and_need_the_passphrase(tmp_path):
    home = tmp_path / "home"
    assert run_cli(home, "init").code == 0
    res = run_cli(home, "privacy", "--json", "add", "app", "zebra-secret-messenger")
    assert res.code == 0, res.err
    assert res.json()["excluded_apps"] == ["zebra-secret-messenger"]
    assert res.json()["service_updated"] is False
    res = run_cli(home, "privacy", "--json", "add", "title", "*okapi-clinic*")
    assert res.json()["title_patterns"] == ["*okapi-clinic*"]
    assert run_cli(home, "privacy", "--json", "action", "iban", "drop").json()["actions"][
        "iban"] == "drop"
    assert run_cli(home, "privacy", "show", passphrase="wrong passphrase").code == 3
    shown = run_cli(home, "privacy", "--json", "show").json()
    assert shown["excluded_apps"] == ["zebra-secret-messenger"]
    assert "KeePassXC" in shown["default_excluded_apps"]
    assert_secret_absent(home, "zebra-secret-messenger")
    assert_secret_absent(home, "okapi-clinic")
    # with sealed lists, a one-shot capture without the passphrase refuses (exit 3)
    res = run_cli(home, "capture", "--once", passphrase=None, env={"DISPLAY": ":99"})
    assert res.code == 3 and "privacy" in res.err
    bad = run_cli(home, "privacy", "add", "title", "re:(unclosed")
    assert bad.code == 2
