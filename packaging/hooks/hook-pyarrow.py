"""pyarrow without Arrow Flight, the S3/GCS/Azure/HDFS filesystems, ORC and CUDA.

Overrides the contrib hook (which collects every extension and every library: ~50 MiB of
Flight and the AWS SDK the app never loads). LanceDB reads and writes local files through
pyarrow's core, dataset, compute and parquet modules, which stay. ``pyarrow.fs`` imports the
remote filesystems inside try/except, so leaving them out is a supported configuration.
"""

from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs, collect_submodules

UNUSED_MODULES = ("tests", "flight", "_flight", "_s3fs", "_gcsfs", "_azurefs", "_hdfs", "cuda",
                  "_cuda", "orc", "_orc", "_dataset_orc", "gandiva", "_parquet_encryption",
                  "_dataset_parquet_encryption", "_pyarrow_cpp_tests", "benchmark")
UNUSED_LIBS = ("libarrow_flight", "libarrow_python_flight", "libarrow_s3", "libgandiva",
               "libarrow_cuda", "libarrow_python_parquet_encryption")


def _wanted_module(name: str) -> bool:
    parts = name.split(".")
    # collect_submodules also lists the bare libarrow_*.so files as "extension modules".
    if parts[-1].startswith("lib") and parts[-1] != "lib":
        return False
    return not any(p in UNUSED_MODULES for p in parts[1:])


def _wanted_lib(entry: tuple[str, str]) -> bool:
    src = entry[0].rsplit("/", 1)[-1]
    return not src.startswith(UNUSED_LIBS)


hiddenimports = collect_submodules("pyarrow", filter=_wanted_module)
excludedimports = [f"pyarrow.{m}" for m in UNUSED_MODULES]
datas = collect_data_files("pyarrow", excludes=["**/tests/**", "**/*.pxd", "**/*.pyx",
                                                "**/include/**", "**/src/**"])
binaries = [b for b in collect_dynamic_libs("pyarrow") if _wanted_lib(b)]
