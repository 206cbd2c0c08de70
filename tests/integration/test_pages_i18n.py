"""The catalogues: every message of the pages translated in Thai and English, none fuzzy, compiled."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
THAI = re.compile(r"[\u0e00-\u0e7f]")


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _extracted(tmp_path: Path) -> set[str | tuple[str, ...]]:
    """The message ids the pages use (a plural message's id is its (singular, plural) pair)."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        return {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(f) if m.id}


def test_every_message_of_the_pages_is_in_both_catalogues(tmp_path):  # type: ignore[no-untyped-def]
    wanted = _extracted(tmp_path)
    assert len(wanted) > 200
    for locale in ("th", "en"):
        have = {m.id for m in _catalog(locale) if m.id}
        assert not wanted - have, f"{locale}: not in the catalogue: {sorted(wanted - have)[:10]}"


def test_no_untranslated_or_fuzzy_entries():  # type: ignore[no-untyped-def]
    for locale in ("th", "en"):
        catalog = _catalog(locale)
        assert not catalog.fuzzy
        for message in catalog:
            if not message.id:
                continue
            assert message.string, f"{locale}: untranslated {message.id!r}"
            assert "fuzzy" not in message.flags, f"{locale}: fuzzy {message.id!r}"
            if locale == "en":
                assert not THAI.search(message.string), f"en: Thai left in {message.string!r}"
            for placeholder in re.findall(r"%\(\w+\)s", message.id):
                assert placeholder in message.string, f"{locale}: {placeholder} lost in {message.id!r}"


def test_compiled_catalogues_match_the_po_files():  # type: ignore[no-untyped-def]
    for locale in ("th", "en"):
        po = {m.id: m.string for m in _catalog(locale) if m.id}
        with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
            mo = {m.id: m.string for m in read_mo(f) if m.id}
        assert mo == po, f"{locale}: messages.mo is stale; run translations/build.py"
