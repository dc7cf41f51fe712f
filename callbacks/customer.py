"""Callbacks of the customer page."""
