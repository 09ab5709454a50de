"""The bridge to learning code: the PettingZoo/Gymnasium environments, the learner seats
that sit in a market, checkpoints, and the evaluation of trained policies against the
baselines. Nothing in :mod:`lobsim.sim` imports this package."""
