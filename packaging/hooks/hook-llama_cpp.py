"""llama-cpp-python: ctypes loads ``<llama_cpp>/lib/libllama.so`` (or .dylib / llama.dll).

The build tree has three copies of every library (libX.so, libX.so.0, libX.so.0.N.M); only the
unversioned name is loaded by path, and PyInstaller's dependency analysis brings the SONAME
copies its NEEDED entries ask for (libggml.so.0, ...), next to it in llama_cpp/lib.
"""

from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, get_package_paths

_, _pkg_dir = get_package_paths("llama_cpp")
_lib = Path(_pkg_dir) / "lib"

binaries = []
for _pattern in ("*.so", "*.dylib", "*.dll"):
    for _path in sorted(_lib.glob(_pattern)):
        binaries.append((str(_path), "llama_cpp/lib"))

# The chat-format templates and the server are pure Python; data is only the py.typed marker.
datas = collect_data_files("llama_cpp", excludes=["**/lib/**"])
