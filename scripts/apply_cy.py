"""Apply Welsh translations from JSON files to the cy catalog (run after ``make i18n``).

Give it any JSON files of translations, wherever they are: each is a JSON object
``msgid -> Welsh text``, or for a plural message
``singular msgid -> {"plural": "...", "forms": [other, one, two, three, six]}`` in the order the
catalog's Plural-Forms header gives. Only entries that are empty or fuzzy are filled, unless
``--overwrite`` is given; a msgid the catalog does not hold is reported, not added. It writes
``locales/cy/LC_MESSAGES/messages.po`` and prints what it applied and what is still missing.

    .venv/bin/python scripts/apply_cy.py new-welsh.json [more.json ...] [--overwrite]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parent.parent / "locales" / "cy" / "LC_MESSAGES" / "messages.po"


def _straight(text: str) -> str:
    """The source's straight apostrophe, so no page mixes "wedi'i" and "wedi’i"."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="cy")
    wanted: dict[str, object] = {}
    for path in args.files:
        wanted.update(json.loads(path.read_text(encoding="utf-8")))
    applied, unknown = 0, []
    for msgid, value in wanted.items():
        message = catalog.get(msgid)
        if message is None:
            unknown.append(msgid)
            continue
        empty = not any(message.string) if message.pluralizable else not message.string
        if not (empty or message.fuzzy or args.overwrite):
            continue
        if message.pluralizable:
            if not isinstance(value, dict) or len(value["forms"]) != catalog.num_plurals:
                raise SystemExit(f"{msgid!r}: needs {catalog.num_plurals} plural forms")
            message.string = tuple(_straight(form) for form in value["forms"])
        else:
            if not isinstance(value, str):
                raise SystemExit(f"{msgid!r}: a singular message needs a string")
            message.string = _straight(value)
        message.flags.discard("fuzzy")
        message.previous_id = []
        applied += 1
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, width=None, ignore_obsolete=True)
    missing = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not (all(m.string) if m.pluralizable else m.string))
    ]
    print(
        f"applied {applied}; not in the catalog: {len(unknown)}; still untranslated: {len(missing)}"
    )
    for msgid in unknown:
        print("  not in catalog:", msgid if isinstance(msgid, str) else msgid[0])
    for msgid in missing:
        print("  untranslated:", msgid if isinstance(msgid, str) else msgid[0])


if __name__ == "__main__":
    main()
