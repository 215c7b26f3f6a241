"""The post-mortem (`cockpit report`): a run's or a log's story as Markdown.

`build.build_report` is the entry; `log` and `run` write the sections, `timeline` the
run's events, `markdown` the blocks and the redacted rendering they all share.
"""
