"""Store-level analyses: read activation stores, call a metric, return results-table rows.

``cebra_lens_core.metrics`` holds the pure maths on arrays; each module here
applies one metric to the layers of activation stores (respecting the split)
and formats the values as rows of the tidy results table.
"""
