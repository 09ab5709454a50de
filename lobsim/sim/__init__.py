"""The simulation: agents, their gateway sessions with latency, the exchange around the
book, the ledger and the recorder, wired into a market that runs on SimPy (the reference)
or on the compiled engine, with the same bytes either way.

The agent contract a user subclasses is :class:`lobsim.sim.agent.Agent`.
"""
