"""Learned models: the boosted-tree evaluator, the model file and its provenance."""
