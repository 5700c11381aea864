"""Monitoring: drift between reference and current data, model performance, fairness."""
