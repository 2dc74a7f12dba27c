"""distributed-dialogue: community deliberations in the chat spaces groups already use."""

__version__ = "0.1.0"
