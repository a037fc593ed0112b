"""Write docs/tasks.md from the catalog of tasks and methods (singan_studio/catalog.py).

    python scripts/make_docs_tables.py

A test fails when the file and the catalog disagree, so run this after editing the catalog.
"""

from pathlib import Path

from singan_studio.catalog import markdown

OUT = Path(__file__).resolve().parents[1] / "docs" / "tasks.md"

if __name__ == "__main__":
    OUT.write_text(markdown())
    print(f"wrote {OUT}")
