"""The terminal UI, and the only package that imports Textual: the app, its places
(`screens/`), their widgets (`widgets/`), the messages that cross screens.

Everything it shows comes from the core packages (hardware, doctor, profiles, vram, runs,
logs, knowledge), which never import it.
"""
