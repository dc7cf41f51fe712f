"""Callbacks of the Access tab."""
