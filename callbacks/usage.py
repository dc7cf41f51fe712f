"""Callbacks of the Usage tab (none yet: the tab is a placeholder)."""
