"""Training profiles: their rules, validation, files on disk, and the card each is planned for.

The schema itself (the typed sections) is `engines.profile_schema`, shared with the engine.
Core logic only: nothing here imports textual.
"""
