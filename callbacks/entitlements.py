"""Callbacks of the Entitlements tab."""
