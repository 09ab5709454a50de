"""Analytic market-making benchmarks, independent of the order book.

Stochastic-control models of market making (Avellaneda-Stoikov 2008, Cartea-Jaimungal
2015) have known optimal policies, so they tell whether a learner actually learns:

- :mod:`lobsim.models.vecenv`: the vectorized environment and its configs;
- :mod:`lobsim.models.closed_form`: the Cartea-Jaimungal value ``h(t, q)``;
- :mod:`lobsim.models.baselines`: fixed-depth, Avellaneda-Stoikov and CJ-optimal policies;
- :mod:`lobsim.models.rollout`: Monte Carlo evaluation of a policy;
- :mod:`lobsim.models.reproductions`: ``lobsim validate as2008`` and ``cj2015``;
- :mod:`lobsim.models.bench`: ``lobsim bench models``.
"""

from lobsim.models.vecenv import MarketMakingVecEnv, ModelConfig, as2008_config, cj2015_config

__all__ = ["MarketMakingVecEnv", "ModelConfig", "as2008_config", "cj2015_config"]
