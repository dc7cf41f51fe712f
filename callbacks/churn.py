"""Callbacks of the Churn tab (none yet: the tab is a placeholder)."""
