"""The console platform: a local chat in the terminal, and the demo."""
