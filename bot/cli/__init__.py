"""The ``dialogue`` command: one module per verb; it calls the parts, holds no rules."""
