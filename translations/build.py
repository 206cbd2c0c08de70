"""Rebuild the catalogues: extract, update th and en, fill them, compile.

    /tmp/venv/bin/python translations/build.py

Message ids are Thai (the first language of the service). The Thai catalogue carries each message
as is; the English one takes its text from ``en.tsv`` (Thai<TAB>English, one per line, \\n for new
lines). A message without an English text stops the build, so nothing ships untranslated.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def english() -> dict[str, str]:
    table: dict[str, str] = {}
    for number, line in enumerate((HERE / "en.tsv").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        thai, _, text = line.partition("\t")
        if not text:
            raise SystemExit(f"en.tsv line {number}: no English text")
        table[thai.replace("\\n", "\n")] = text.replace("\\n", "\n")
    return table


def main() -> None:
    pot = HERE / "messages.pot"
    subprocess.run(PYBABEL + ["extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                              "--no-location", "--sort-output", "--project", "Ruamsue", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        template = read_po(f)
    table = english()
    missing = []
    for locale in ("th", "en"):
        path = HERE / locale / "LC_MESSAGES" / "messages.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            subprocess.run(PYBABEL + ["init", "-i", str(pot), "-d", str(HERE), "-l", locale], cwd=ROOT, check=True,
                           capture_output=True)
        with path.open("rb") as f:
            catalog = read_po(f, locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if not message.id:
                continue
            message.flags.discard("fuzzy")
            if locale == "th":
                message.string = message.id
            elif message.id in table:
                message.string = table[message.id]
            else:
                missing.append(message.id)
        catalog.obsolete.clear()
        with path.open("wb") as f:
            write_po(f, catalog, width=0, omit_header=False, ignore_obsolete=True)
    if missing:
        print("No English text for:", *sorted(set(missing)), sep="\n  ")
        raise SystemExit(1)
    subprocess.run(PYBABEL + ["compile", "-d", str(HERE), "--statistics"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
