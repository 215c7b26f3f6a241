"""The `cockpit` command: the parser, the entry point, and one module per command family.

`main.main` is the console script (and `python -m cockpit`); it opens the TUI by default
and imports a command's module only when that command runs, so headless commands start
without Textual.
"""
