"""The baseline for the first-paint and idle benchmarks: the smallest Textual app."""

from textual.app import App
from textual.widgets import Footer, Static


class Minimal(App):
    def compose(self):
        yield Static("minimal app ready")
        yield Footer()


if __name__ == "__main__":
    Minimal().run()
