"""Saving settings edited in the GUI: values land in the TOML file, the rest of the file
(comments, other sections) is kept, bad values are refused and the file is unchanged."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core.config import SCHEMA_VERSION, Paths, load_config, save_config_values
from core.errors import ConfigError


def _paths(tmp_path: Path) -> Paths:
    return Paths(config_file=tmp_path / "cfg" / "config.toml", data_dir=tmp_path / "data")


def test_save_creates_the_file_with_schema_version(tmp_path):
    paths = _paths(tmp_path)
    cfg = save_config_values(paths, "storage", {"budget_mb": 2048, "max_age_days": 30},
                             environ={})
    assert cfg.storage.budget_mb == 2048 and cfg.storage.max_age_days == 30
    data = tomllib.loads(paths.config_file.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["storage"] == {"budget_mb": 2048, "max_age_days": 30}
    assert load_config(paths, environ={}).storage.budget_mb == 2048


def test_save_keeps_comments_and_other_settings(tmp_path):
    paths = _paths(tmp_path)
    paths.config_file.parent.mkdir(parents=True)
    original = ("schema_version = 1\n# my capture settings\n[capture]\ninterval_s = 5.0\n\n"
                "[storage]\n# how much disk\nbudget_mb = 4096 # four gigs\nkeep_full_days = 2\n"
                "\n[search]\ndefault_limit = 30\n")
    paths.config_file.write_text(original)
    save_config_values(paths, "storage", {"budget_mb": 1024, "keep_thumbnail_days": 14},
                       environ={})
    text = paths.config_file.read_text()
    assert "# my capture settings" in text and "# how much disk" in text
    cfg = load_config(paths, environ={})
    assert cfg.capture.interval_s == 5.0 and cfg.search.default_limit == 30
    assert cfg.storage.budget_mb == 1024
    assert cfg.storage.keep_full_days == 2 and cfg.storage.keep_thumbnail_days == 14
    assert text.count("budget_mb") == 1
    # the new key is inside [storage], before [search]
    assert text.index("keep_thumbnail_days") < text.index("[search]")


@pytest.mark.parametrize(("values", "message"), [
    ({"budget_mb": 5}, "storage.budget_mb must be >= 16"),
    ({"keep_full_days": 9, "keep_thumbnail_days": 3},
     "keep_thumbnail_days must be >= storage.keep_full_days"),
    ({"max_age_days": -1}, "max_age_days must be >= 0"),
    ({"budget_gb": 3}, "unknown setting(s): budget_gb"),
    ({"budget_mb": "lots"}, "storage.budget_mb"),
])
def test_bad_values_are_refused_and_nothing_is_written(tmp_path, values, message):
    paths = _paths(tmp_path)
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text("[storage]\nbudget_mb = 4096\n")
    before = paths.config_file.read_bytes()
    with pytest.raises(ConfigError) as err:
        save_config_values(paths, "storage", values, environ={})
    assert message in str(err.value)
    assert paths.config_file.read_bytes() == before
    assert not list(paths.config_file.parent.glob("*.tmp*"))


def test_a_broken_file_is_reported_not_overwritten(tmp_path):
    paths = _paths(tmp_path)
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text("[storage\nbudget_mb = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        save_config_values(paths, "storage", {"budget_mb": 1024}, environ={})
    assert paths.config_file.read_text() == "[storage\nbudget_mb = \n"
    with pytest.raises(ConfigError, match="unknown config section"):
        save_config_values(paths, "nosuch", {"a": 1}, environ={})
