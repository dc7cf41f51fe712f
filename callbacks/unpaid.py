"""Callbacks of the Unpaid usage tab (none yet: the tab is a placeholder)."""
