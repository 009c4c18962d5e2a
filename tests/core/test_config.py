from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import SCHEMA_VERSION, Config, load_config, parse_config, resolve_paths
from core.errors import ConfigError


def test_defaults_when_file_is_empty():
    cfg = parse_config("", environ={})
    assert cfg == Config()
    assert cfg.schema_version == SCHEMA_VERSION
    assert cfg.capture.interval_s == 3.0
    assert cfg.security.kdf_memory_mib == 256


def test_file_values_and_env_overrides():
    text = "schema_version = 1\n[capture]\ninterval_s = 5\n[search]\ndefault_limit = 20\n"
    cfg = parse_config(text, environ={"AFTERIMAGE_CAPTURE__INTERVAL_S": "7.5",
                                      "AFTERIMAGE_CAPTURE__KEEP_FULL_FRAMES": "false"})
    assert cfg.capture.interval_s == 7.5
    assert cfg.capture.keep_full_frames is False
    assert cfg.search.default_limit == 20


@pytest.mark.parametrize("text, message", [
    ("[capture]\ninterval_s = 'often'", "expected a number"),
    ("[capture]\nbogus = 1", "unknown setting"),
    ("[nope]\nx = 1", "unknown setting"),
    ("schema_version = 99", "newer"),
    ("[capture]\ninterval_s = 0.1", "at least 0.5"),
    ("not toml ===", "not valid TOML"),
    ("capture = 3", "expected a table"),
])
def test_bad_config_gives_clear_error(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(text, environ={})


def test_bad_env_section_is_rejected():
    with pytest.raises(ConfigError, match="unknown section"):
        parse_config("", environ={"AFTERIMAGE_NOPE__X": "1"})


def test_afterimage_home_moves_config_and_data(tmp_path: Path):
    paths = resolve_paths({"AFTERIMAGE_HOME": str(tmp_path)})
    assert paths.config_file == tmp_path / "config.toml"
    assert paths.data_dir == tmp_path
    assert paths.vault_dir == tmp_path / "vault"
    (tmp_path / "config.toml").write_text("[capture]\ninterval_s = 4\n")
    assert load_config(paths, environ={}).capture.interval_s == 4.0


def test_platform_dirs_without_home():
    paths = resolve_paths({})
    assert "afterimage" in str(paths.config_file).lower()
    assert "afterimage" in str(paths.data_dir).lower()


@given(st.text(max_size=300))
def test_parse_config_never_raises_anything_but_config_error(text):
    try:
        parse_config(text, environ={})
    except ConfigError:
        pass


@given(st.dictionaries(st.sampled_from(["interval_s", "thumbnail_max_px", "keep_full_frames",
                                        "frame_quality"]),
                       st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
                                 st.booleans()), max_size=4))
def test_capture_section_values_are_validated(values):
    import tomli_w

    text = tomli_w.dumps({"capture": values})
    try:
        cfg = parse_config(text, environ={})
    except ConfigError:
        return
    assert cfg.capture.interval_s >= 0.5
    assert 16 <= cfg.capture.thumbnail_max_px <= 4096
