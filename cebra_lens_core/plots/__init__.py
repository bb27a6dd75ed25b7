"""Figures. One module per figure family; every function returns a matplotlib Figure."""
