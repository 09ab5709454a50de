"""Learning agents: one readable file per algorithm, plain PyTorch."""
