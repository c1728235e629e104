"""What the faces (CLI, bot, web) share about words: translations, formats, error messages.

``core`` never imports this package: core speaks in codes, the faces speak to people.
"""
