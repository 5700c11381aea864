"""Experiment tracking: what a run records about itself (environment, system metrics, artifacts)."""
