"""cockpit: a keyboard-driven terminal cockpit for fine-tuning LLMs on your own GPU."""

__version__ = "0.1.0"
