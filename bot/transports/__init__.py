"""Transports: thin adapters between a messenger (or a terminal) and the core."""
