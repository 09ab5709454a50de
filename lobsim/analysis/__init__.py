"""Analysis of order flow: real (LOBSTER) and simulated through one path; calibration."""
