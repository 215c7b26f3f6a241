"""Training engines: the only package that imports torch/transformers/peft/trl.

It runs as its own process (`python -m engines ...`) and talks to cockpit through the run
directory and the event protocol in `engines.protocol`.
"""
