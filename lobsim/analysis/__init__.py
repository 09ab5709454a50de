"""Analysis of run data (simulated or real): samples, stylized facts, realism against real data."""
