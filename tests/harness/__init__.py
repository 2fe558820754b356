"""Test harness: the moto server on loopback, its extensions, and the network guard."""

__all__ = ["moto_server", "network"]
