"""Runs: the run store (run directories), the supervisor (spawn, stop, resume) and the watcher.

Core logic only: nothing here imports textual or the GPU stack. The package import itself
is empty so that the reaper (`python -m cockpit.runs.reaper`) starts with the standard
library and `engines.protocol` only.
"""
