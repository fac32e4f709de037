"""Exact (numeric and symbolic) predictions that the experiments are checked against."""
