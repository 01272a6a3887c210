"""Erasure (SPEC §14): forgetting the people a connection names, its history still provable."""
