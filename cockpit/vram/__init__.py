"""VRAM estimation: model specs and catalog, the analytic estimate, suggestions, --trace.

Pure Python (no torch, no textual): `estimate.estimate(profile, gpu_gib)` is the entry
point (`cockpit.cli.estimate` prints it); `trace_client.trace_estimate` runs the precise
meta-device trace in a child process.
"""
