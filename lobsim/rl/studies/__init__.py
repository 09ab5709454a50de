"""Studies that train and evaluate learning agents across many markets (one module each)."""
