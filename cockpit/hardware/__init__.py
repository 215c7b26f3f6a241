"""Hardware gateway: NVML (nvml.py), psutil (host.py), a simulated GPU source, and the
frozen snapshots everything else sees. No other package touches pynvml or psutil."""
