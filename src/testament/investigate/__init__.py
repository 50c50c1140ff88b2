"""Incidents, the violation taxonomy, the verification workflow, and search."""
