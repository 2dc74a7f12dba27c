"""The Discord platform: gateway events in as events, actions out as calls."""
