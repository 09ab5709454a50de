"""Market data in and out: LOBSTER files (real or exported) and a run read back as a tape
of book events."""
