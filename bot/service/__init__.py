"""The service: a generic shell that loads facts, steps the engine, stores, performs."""
