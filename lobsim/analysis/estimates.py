"""What a calibration found: estimates with standard errors, and what it could not estimate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Estimate:
    """One estimated parameter: its value, standard error (None: none) and how."""

    value: Any
    se: float | None = None
    how: str = ""


@dataclass
class Calibration:
    """What :func:`~lobsim.analysis.calibration.calibrate` found: estimates by name, what it could not estimate (name ->
    why), and the scenario data."""

    source: str
    estimates: dict[str, Estimate] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)

    def put(self, name: str, value: Any, se: float | None = None, how: str = "") -> Any:
        self.estimates[name] = Estimate(value, se if se is None or math.isfinite(se) else None, how)
        return value

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: estimates (value, se, how), missing, scenario."""
        return {"source": self.source,
                "estimates": {k: {"value": e.value, "se": e.se, "how": e.how}
                              for k, e in self.estimates.items()},
                "missing": self.missing, "scenario": self.scenario}
