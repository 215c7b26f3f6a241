"""Log files: reading, following and the post-mortem report."""
