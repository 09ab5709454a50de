"""Traders and learners for lobsim. Depends on ``lobsim``; ``lobsim`` never imports it
at import time (it finds agent kinds through the ``lobsim.agents`` entry-point group)."""
