"""One typed configuration, loaded once by ``app`` and passed down.

Defaults live in code (the dataclasses below). The user's file is TOML in the
platform config folder (``config.toml``); ``AFTERIMAGE_HOME`` moves both the
config file and the data folder under one directory (portable installs, tests).
Single values can be overridden with environment variables named
``AFTERIMAGE_<SECTION>__<KEY>`` (for example ``AFTERIMAGE_CAPTURE__INTERVAL_S=5``).

The config file holds settings only, never user content: lists that say what a
user looks at (their own excluded apps and sites) are kept encrypted in the
vault, not here (SECURITY.md R1).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from core.errors import ConfigError

SCHEMA_VERSION = 1
APP_NAME = "afterimage"
ENV_PREFIX = "AFTERIMAGE_"


@dataclass(frozen=True)
class CaptureConfig:
    interval_s: float = 3.0
    # Frames whose downscaled fingerprint equals the previous one are skipped.
    skip_identical: bool = True
    thumbnail_max_px: int = 480
    thumbnail_quality: int = 70
    frame_quality: int = 80
    keep_full_frames: bool = True
    # The capture service (`afterimage service`, core/service.py):
    battery_interval_s: float = 10.0  # the interval while running on battery
    window_poll_s: float = 0.5  # how often the active window is checked for a switch
    min_gap_s: float = 1.0  # never two captures closer than this (window switches)
    idle_after_s: float = 120.0  # no input for this long: stop capturing (0 = never)
    queue_size: int = 2  # grabbed frames waiting for OCR; more are dropped and counted
    # While the screen keeps changing (typing, scrolling), the latest frame is held and
    # stored when the screen settles, the window changes, or after this long; the frames it
    # replaced are counted as "coalesced" (core/capture/coalesce.py). 0 = store every
    # changed frame.
    hold_s: float = 20.0
    region_ocr: bool = True  # re-read only the changed regions of a frame
    # With privacy lists sealed in the vault, before the first unlock hands them over:
    # "wait" captures nothing, "defaults" captures with the built-in filters only.
    before_unlock: str = "wait"
    max_restarts: int = 5  # the supervisor gives up after this many crashes in a row


@dataclass(frozen=True)
class OcrConfig:
    min_confidence: float = 0.5
    # Frames larger than this (longest side, pixels) are downscaled before OCR.
    max_side_px: int = 2000
    # Use the 8-bit recogniser made at install time (core/ocr_int8.py) when it is there.
    int8_recognizer: bool = True
    # Which scripts the 8-bit recogniser reads: "latin" (Latin, Greek and symbols: ~17%
    # less OCR CPU), "all" (also Chinese and Japanese), or "auto" (all in a Chinese or
    # Japanese locale, else latin).
    scripts: str = "auto"
    # Narrow long lines of wide fonts before recognition (core/ppocr.py, line_squeeze): the
    # same text for ~20% less recognition CPU on such lines.
    narrow_wide_text: bool = True
    # Find the lines of text on plain backgrounds from their ink (core/linefind.py) and run
    # the detector model only on the rest: the same text for a fraction of the detector's
    # CPU on editors, terminals and documents.
    plain_text_lines: bool = True


@dataclass(frozen=True)
class EmbedConfig:
    # "minilm-l6-int8" (bundled) or "onnx:<folder>" under <data dir>/models (a larger
    # sentence-transformer the model manager downloaded).
    text_model: str = "minilm-l6-int8"
    max_tokens: int = 256
    # open_clip architecture (e.g. "ViT-B-32", "MobileCLIP-S1"); "" = no image search.
    image_model: str = ""
    image_weights: str = ""  # path of the downloaded weights (.safetensors / .pt)


@dataclass(frozen=True)
class SecurityConfig:
    idle_lock_minutes: int = 10
    kdf_memory_mib: int = 256
    kdf_iterations: int = 3
    kdf_lanes: int = 4
    # `init` raises the iteration count until one derivation takes at least this long.
    kdf_min_seconds: float = 0.5


@dataclass(frozen=True)
class StorageConfig:
    budget_mb: int = 10_240
    max_age_days: int = 0  # 0 = keep until the budget needs the space
    # Tiered degradation (core/retention.py): when the store passes degrade_at_fraction of
    # the budget, the oldest memories lose their full screenshot, then their thumbnail;
    # the newest keep_full_days / keep_thumbnail_days are never degraded.
    keep_full_days: int = 1
    keep_thumbnail_days: int = 7
    degrade_at_fraction: float = 0.9


@dataclass(frozen=True)
class SearchConfig:
    default_limit: int = 10
    snippet_chars: int = 160
    fusion: str = "weighted"  # "weighted" (0.4 dense + 0.6 BM25) | "rrf" (reciprocal rank)
    collapse_duplicates: bool = True
    natural_time: bool = True  # "yesterday afternoon" in a query becomes a time filter


@dataclass(frozen=True)
class ConsolidationConfig:
    # "text" (bundled Gemma 3 270M over title + OCR), "vlm" (vlm_model + vlm_projector
    # of family vlm_family, from the model manager) or "off".
    captioner: str = "text"
    vlm_family: str = ""
    vlm_model: str = ""
    vlm_projector: str = ""
    only_when_idle: bool = True  # run on mains power or when the CPUs are mostly idle
    in_app: bool = True  # the desktop app consolidates in the background while unlocked


@dataclass(frozen=True)
class ChatConfig:
    # "" = the embedded Gemma 3 270M; else a catalog name (models list) or a GGUF path.
    model: str = ""
    max_tokens: int = 160
    evidence_tokens: int = 1200
    context_tokens: int = 4096
    threads: int = 0  # 0 = one per CPU core (at most 8)
    # Aggregates: a gap between captures longer than this is not counted as time spent.
    max_gap_s: float = 300.0
    save_history: bool = True


@dataclass(frozen=True)
class Config:
    schema_version: int = SCHEMA_VERSION
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    ocr: OcrConfig = field(default_factory=OcrConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)
    consolidation: ConsolidationConfig = field(default_factory=ConsolidationConfig)


@dataclass(frozen=True)
class Paths:
    """Where Afterimage keeps its files."""

    config_file: Path
    data_dir: Path

    @property
    def vault_dir(self) -> Path:
        return self.data_dir / "vault"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def models_dir(self) -> Path:
        """Downloaded and assembled model files (not user content; plaintext)."""
        return self.data_dir / "models"


def resolve_paths(environ: Mapping[str, str] | None = None) -> Paths:
    env = os.environ if environ is None else environ
    home = env.get(ENV_PREFIX + "HOME")
    if home:
        root = Path(home).expanduser().absolute()
        config_file = root / "config.toml"
        data_dir = root
    else:
        config_file = Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"
        data_dir = Path(platformdirs.user_data_dir(APP_NAME))
    override = env.get(ENV_PREFIX + "CONFIG")
    if override:
        config_file = Path(override).expanduser().absolute()
    return Paths(config_file=config_file, data_dir=data_dir)


def _coerce(value: Any, target: Any, where: str) -> Any:
    origin = typing.get_origin(target)
    if target is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false",
                                                         "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{where}: expected true or false")
    if target is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer")
        try:
            return int(value) if isinstance(value, str | int) else _fail(where, "an integer")
        except ValueError as exc:
            raise ConfigError(f"{where}: expected an integer") from exc
    if target is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number")
        try:
            if isinstance(value, str | int | float):
                return float(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: expected a number") from exc
        return _fail(where, "a number")
    if target is str:
        if isinstance(value, str):
            return value
        return _fail(where, "a string")
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            return _fail(where, "a list")
        (inner,) = typing.get_args(target)[:1]
        return tuple(_coerce(v, inner, where) for v in value)
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{where}: unsupported type")
    raise ConfigError(f"{where}: unsupported type")


def _fail(where: str, what: str) -> Any:
    raise ConfigError(f"{where}: expected {what}")


def _build(cls: type[Any], data: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s): {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        target = hints[f.name]
        sub = f"{where}.{f.name}" if where else f.name
        if dataclasses.is_dataclass(target):
            value = data[f.name]
            if not isinstance(value, Mapping):
                raise ConfigError(f"{sub}: expected a table")
            kwargs[f.name] = _build(typing.cast(type[Any], target), value, sub)
        else:
            kwargs[f.name] = _coerce(data[f.name], target, sub)
    return cls(**kwargs)


def _validate(cfg: Config) -> None:
    checks: list[tuple[bool, str]] = [
        (cfg.capture.interval_s >= 0.5, "capture.interval_s must be at least 0.5"),
        (cfg.capture.battery_interval_s >= cfg.capture.interval_s,
         "capture.battery_interval_s must be at least capture.interval_s"),
        (0.1 <= cfg.capture.window_poll_s <= 10, "capture.window_poll_s must be within 0.1..10"),
        (0 <= cfg.capture.min_gap_s <= cfg.capture.interval_s,
         "capture.min_gap_s must be within 0..interval_s"),
        (cfg.capture.idle_after_s >= 0, "capture.idle_after_s must be >= 0"),
        (1 <= cfg.capture.queue_size <= 16, "capture.queue_size must be within 1..16"),
        (0 <= cfg.capture.hold_s <= 600, "capture.hold_s must be within 0..600"),
        (cfg.capture.before_unlock in {"wait", "defaults"},
         "capture.before_unlock must be 'wait' or 'defaults'"),
        (0 <= cfg.capture.max_restarts <= 100, "capture.max_restarts must be within 0..100"),
        (16 <= cfg.capture.thumbnail_max_px <= 4096, "capture.thumbnail_max_px out of range"),
        (1 <= cfg.capture.thumbnail_quality <= 100, "capture.thumbnail_quality out of range"),
        (1 <= cfg.capture.frame_quality <= 100, "capture.frame_quality out of range"),
        (0.0 <= cfg.ocr.min_confidence <= 1.0, "ocr.min_confidence must be within 0..1"),
        (cfg.ocr.max_side_px >= 64, "ocr.max_side_px too small"),
        (cfg.ocr.scripts in {"auto", "latin", "all"}, "ocr.scripts must be auto, latin or all"),
        (cfg.embed.text_model == "minilm-l6-int8" or (
            cfg.embed.text_model.startswith("onnx:") and len(cfg.embed.text_model) > 5
            and "/" not in cfg.embed.text_model and ".." not in cfg.embed.text_model),
         "embed.text_model: unknown model (minilm-l6-int8 or onnx:<folder>)"),
        (cfg.search.fusion in {"rrf", "weighted"}, "search.fusion must be rrf or weighted"),
        (cfg.consolidation.captioner in {"text", "vlm", "off"},
         "consolidation.captioner must be text, vlm or off"),
        (8 <= cfg.embed.max_tokens <= 512, "embed.max_tokens out of range"),
        (cfg.security.idle_lock_minutes >= 0, "security.idle_lock_minutes must be >= 0"),
        (cfg.security.kdf_memory_mib >= 64, "security.kdf_memory_mib must be >= 64"),
        (cfg.security.kdf_iterations >= 1, "security.kdf_iterations must be >= 1"),
        (1 <= cfg.security.kdf_lanes <= 64, "security.kdf_lanes out of range"),
        (cfg.storage.budget_mb >= 16, "storage.budget_mb must be >= 16"),
        (cfg.storage.max_age_days >= 0, "storage.max_age_days must be >= 0"),
        (cfg.storage.keep_full_days >= 0, "storage.keep_full_days must be >= 0"),
        (cfg.storage.keep_thumbnail_days >= cfg.storage.keep_full_days,
         "storage.keep_thumbnail_days must be >= storage.keep_full_days"),
        (0.1 <= cfg.storage.degrade_at_fraction <= 1.0,
         "storage.degrade_at_fraction must be within 0.1..1"),
        (1 <= cfg.search.default_limit <= 1000, "search.default_limit out of range"),
        (16 <= cfg.search.snippet_chars <= 2000, "search.snippet_chars out of range"),
        (8 <= cfg.chat.max_tokens <= 4096, "chat.max_tokens out of range"),
        (64 <= cfg.chat.evidence_tokens <= 32768, "chat.evidence_tokens out of range"),
        (512 <= cfg.chat.context_tokens <= 131072, "chat.context_tokens out of range"),
        (0 <= cfg.chat.threads <= 256, "chat.threads out of range"),
        (cfg.chat.max_gap_s >= 1.0, "chat.max_gap_s must be at least 1"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def parse_config(text: str, environ: Mapping[str, str] | None = None) -> Config:
    """Parse TOML text plus environment overrides into a validated :class:`Config`."""
    try:
        data: dict[str, Any] = tomllib.loads(text) if text.strip() else {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file is not valid TOML: {exc}") from exc
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError("schema_version must be an integer")
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"config schema_version {version} is newer than this Afterimage supports "
            f"({SCHEMA_VERSION}); update Afterimage or remove the file"
        )
    data["schema_version"] = SCHEMA_VERSION
    _apply_env(data, os.environ if environ is None else environ)
    cfg = typing.cast(Config, _build(Config, data, ""))
    _validate(cfg)
    return cfg


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    sections = {f.name for f in dataclasses.fields(Config) if f.name != "schema_version"}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX):].lower().partition("__")
        if section not in sections:
            raise ConfigError(f"{name}: unknown section '{section}'")
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{section}: expected a table")
        table[key] = value


def load_config(paths: Paths, environ: Mapping[str, str] | None = None) -> Config:
    """Load the user's config file (if any) with environment overrides."""
    text = ""
    if paths.config_file.exists():
        try:
            text = paths.config_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {paths.config_file}: {exc}") from exc
    return parse_config(text, environ)


def config_to_dict(cfg: Config) -> dict[str, Any]:
    out = dataclasses.asdict(cfg)
    for section in out.values():
        if isinstance(section, dict):
            for key, value in list(section.items()):
                if isinstance(value, tuple):
                    section[key] = list(value)
    return out


# -- saving (the GUI edits a few settings; the file keeps its comments and layout) ------------
def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    raise ConfigError(f"{where}: cannot save a value of type {type(value).__name__}")


def _set_in_section(text: str, section: str, lines_by_key: Mapping[str, str]) -> str:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    header = re.compile(rf"^\s*\[\s*{re.escape(section)}\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        block = [f"{key} = {value}\n" for key, value in lines_by_key.items()]
        sep = ["\n"] if lines and lines[-1].strip() else []
        return "".join([*lines, *sep, f"[{section}]\n", *block])
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].lstrip().startswith("[")), len(lines))
    missing = dict(lines_by_key)
    for i in range(start + 1, end):
        match = re.match(r"^\s*([A-Za-z0-9_]+)\s*=", lines[i])
        if match and match.group(1) in missing:
            key = match.group(1)
            lines[i] = f"{key} = {missing.pop(key)}\n"
    last = end
    while last > start + 1 and not lines[last - 1].strip():
        last -= 1
    lines[last:last] = [f"{key} = {value}\n" for key, value in missing.items()]
    return "".join(lines)


def save_config_values(paths: Paths, section: str, values: Mapping[str, Any],
                       environ: Mapping[str, str] | None = None) -> Config:
    """Set ``values`` in ``[section]`` of the user's config file and return the new config.

    The rest of the file (other settings, comments) is kept and ``schema_version`` is
    written if missing. The result is validated like a loaded file *before* anything is
    written, so a bad value raises :class:`ConfigError` with a clear message and the file
    is unchanged. The write is atomic (temp file, fsync, rename). Settings only: never call
    this with user content (SECURITY.md R1).
    """
    fields = {f.name: f for f in dataclasses.fields(Config) if f.name != "schema_version"}
    if section not in fields:
        raise ConfigError(f"unknown config section '{section}'")
    known = {f.name for f in dataclasses.fields(typing.get_type_hints(Config)[section])}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{section}: unknown setting(s): {', '.join(unknown)}")
    text = ""
    if paths.config_file.exists():
        try:
            text = paths.config_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {paths.config_file}: {exc}") from exc
        parse_config(text, {})  # a broken file is reported, never overwritten
    new = _set_in_section(text, section, {key: _toml_value(value, f"{section}.{key}")
                                          for key, value in values.items()})
    data = tomllib.loads(new)
    if "schema_version" not in data:
        new = f"schema_version = {SCHEMA_VERSION}\n" + new
        data = tomllib.loads(new)
    if any(data.get(section, {}).get(key) != value for key, value in values.items()):
        raise ConfigError(f"cannot update [{section}] in {paths.config_file} automatically "
                          "(unusual layout); edit it by hand")
    parse_config(new, {})  # validates every value: raises before anything is written
    target = paths.config_file
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(new)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {target}: {exc}") from exc
    return parse_config(new, environ)
