"""What a run (or a real market) looks like: statistics and stylized facts, figures,
reports and sweeps over scenario variants."""
