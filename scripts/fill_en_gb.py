"""Fill the en_GB catalog from its own source strings, which are already British English.

``pybabel update`` leaves new entries empty (and may mark near matches fuzzy); for the source
language every translation is the message itself, so each msgstr is set to its msgid and no
entry is left empty or fuzzy. Run by ``make i18n`` after the update step.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = (
    Path(__file__).resolve().parent.parent / "locales" / "en_GB" / "LC_MESSAGES" / "messages.po"
)


def main() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="en_GB")
    for message in catalog:
        if not message.id:  # the header
            continue
        if message.pluralizable:
            singular, plural = message.id[0], message.id[1]
            message.string = (singular,) + (plural,) * (catalog.num_plurals - 1)
        else:
            message.string = message.id
        message.flags.discard("fuzzy")
        message.previous_id = []
    # Same options as `pybabel update --no-wrap --ignore-obsolete`, so a rerun changes nothing.
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, width=None, ignore_obsolete=True)


if __name__ == "__main__":
    main()
