"""Data in and out: run-data loaders that read real (LOBSTER) and simulated markets through one path."""
