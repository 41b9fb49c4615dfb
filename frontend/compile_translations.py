"""Compile the interface's translations (.po → .mo) with polib, so that no machine needs GNU gettext.

    python -m frontend.compile_translations        # run by `make setup` and `make test`
"""

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write each catalogue's .mo beside its .po when missing or older; returns those written."""
    written: list[Path] = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = polib.pofile(str(po_path))
        catalogue.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(f"compiled {path.relative_to(LOCALE_DIR.parent.parent)}")
    sys.exit(0)
