"""lancedb imported without its namespace REST client (core/lance_import.py): the store works,
the client's modules are placeholders that say why, and a failure falls back to a plain
import. Each case runs in a fresh interpreter (imports are per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.support import REPO


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_local_tables_work_without_the_client_and_its_placeholders_say_why(tmp_path):
    result = _run(f"""
        import json, sys
        import numpy as np, pyarrow as pa
        from core.lance_import import client_replaced, import_lancedb, CLIENT
        lancedb = import_lancedb()
        db = lancedb.connect({str(tmp_path)!r})
        vecs = np.eye(4, dtype=np.float32)
        schema = pa.schema([pa.field("id", pa.string()), pa.field("text", pa.string()),
                            pa.field("v", pa.list_(pa.float32(), 4))])
        table = db.create_table("t", schema=schema)
        table.add(pa.table({{"id": list("abcd"), "text": ["red fox", "blue sky", "green tea",
                            "red wine"], "v": list(vecs)}}, schema=schema))
        table.create_fts_index("text")
        nearest = table.search(vecs[2], vector_column_name="v").limit(1).to_list()[0]["id"]
        words = sorted(r["id"] for r in table.search("red", query_type="fts").to_list())
        table.delete("id = 'a'")
        table.optimize()
        from lance_namespace_urllib3_client.models import CreateTableRequest
        try:
            CreateTableRequest()
            said = ""
        except RuntimeError as exc:
            said = str(exc)
        print(json.dumps({{"replaced": client_replaced(), "nearest": nearest, "fts": words,
                          "rows": table.count_rows(), "said": said,
                          "api_loaded": any(m.startswith(CLIENT + ".api.") and
                                            hasattr(sys.modules[m], "__file__")
                                            for m in sys.modules)}}))
    """)
    assert result["replaced"] is True
    assert result["api_loaded"] is False  # the generated client never loaded
    assert result["nearest"] == "c"
    assert result["fts"] == ["a", "d"]
    assert result["rows"] == 3
    assert "not loaded in Afterimage" in result["said"]


def test_falls_back_to_a_plain_import_when_lancedb_needs_the_client():
    result = _run("""
        import json, sys
        import core.lance_import as li
        # a lancedb that uses the client at import time: placeholders make it fail
        class Failing(li._ClientFinder):
            def create_module(self, spec):
                raise ImportError("needs the real client")
        li._ClientFinder = Failing
        lancedb = li.import_lancedb()
        print(json.dumps({"replaced": li.client_replaced(), "connect": callable(lancedb.connect),
                          "finders": sum(isinstance(f, Failing) for f in sys.meta_path)}))
    """)
    assert result == {"replaced": False, "connect": True, "finders": 0}


def test_the_store_opens_lancedb_through_the_placeholder_import():
    result = _run("""
        import json
        from core.store import lance_session
        from core.lance_import import client_replaced
        lance_session()
        print(json.dumps({"replaced": client_replaced()}))
    """)
    assert result["replaced"] is True
