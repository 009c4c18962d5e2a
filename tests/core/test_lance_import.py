"""lancedb imported without loading its namespace REST client (core/lance_import.py): local
tables and the store work without it, the real client loads when lancedb first uses it, and a
failure falls back to a plain import. Each case runs in a fresh interpreter."""

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


def test_local_tables_work_without_the_client_which_loads_when_first_used(tmp_path):
    result = _run(f"""
        import json, sys
        import numpy as np, pyarrow as pa
        from core.lance_import import client_replaced, import_lancedb, CLIENT
        from core.store import table_names
        lancedb = import_lancedb()
        db = lancedb.connect({str(tmp_path)!r})
        vecs = np.eye(4, dtype=np.float32)
        schema = pa.schema([pa.field("id", pa.string()), pa.field("text", pa.string()),
                            pa.field("v", pa.list_(pa.float32(), 4))])
        table = db.create_table("t", schema=schema)
        db.create_table("other", schema=schema)
        table.add(pa.table({{"id": list("abcd"), "text": ["red fox", "blue sky", "green tea",
                            "red wine"], "v": list(vecs)}}, schema=schema))
        table.create_fts_index("text")
        nearest = table.search(vecs[2], vector_column_name="v").limit(1).to_list()[0]["id"]
        words = sorted(r["id"] for r in table.search("red", query_type="fts").to_list())
        table.delete("id = 'a'")
        table.optimize()
        db.open_table("t").count_rows()
        untouched = client_replaced()
        from pathlib import Path
        ours = table_names(Path({str(tmp_path)!r}))
        # lancedb builds one of the client's models here: the real client loads, once
        page = db.list_tables()
        from lance_namespace_urllib3_client.models import ListTablesResponse
        print(json.dumps({{"untouched": untouched, "nearest": nearest, "fts": words,
                          "rows": table.count_rows(), "ours": ours,
                          "lancedb": sorted(page.tables), "real_now": not client_replaced(),
                          "isinstance": isinstance(page, ListTablesResponse),
                          "real_class": type(page).__module__.startswith(CLIENT)}}))
    """)
    assert result["untouched"] is True  # every local operation ran without the client
    assert result["nearest"] == "c"
    assert result["fts"] == ["a", "d"]
    assert result["rows"] == 3
    # the store's own listing agrees with lancedb's
    assert result["ours"] == result["lancedb"] == ["other", "t"]
    assert result["real_now"] and result["isinstance"] and result["real_class"]


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


def test_the_store_and_conversations_never_load_the_client(tmp_path):
    result = _run(f"""
        import json
        from pathlib import Path
        from core.lance_import import client_replaced
        from tests.vaultkit import new_memory, synthetic, utc
        mem = new_memory(Path({str(tmp_path)!r}) / "home")
        [rid] = mem.store_encoded([synthetic(utc(2024, 1, 2, 3), "hello")])
        found = mem.get(rid) is not None
        mem.close()
        print(json.dumps({{"found": found, "replaced": client_replaced()}}))
    """)
    assert result == {"found": True, "replaced": True}
