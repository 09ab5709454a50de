"""Settings that make the learners train in seconds on the tests' 1 s scenarios, and a
stand-in policy. (What a spawned worker unpickles must live here, in an importable module:
a test module is not importable by name in a child process when pytest runs without the
repository's root on ``sys.path``.)"""

import numpy as np

# validate_seconds: the default, 20 minutes, is 1200 episodes of these 1 s test scenarios
DQN_FAST = dict(num_envs=2, workers=0, learning_starts=60, batch_size=32, train_interval=2,
                target_interval=40, buffer_size=2_000, validate_seconds=2.0)
PPO_FAST = dict(num_envs=2, workers=0, num_steps=20, num_minibatches=2, update_epochs=2,
                validate_seconds=2.0)


class ConstantPolicy:
    """Every seat takes the action the network's bias says (a stand-in for a greedy policy)."""

    def __init__(self, net):
        self.net = net

    def act(self, obs):
        return np.full(len(obs), int(self.net.bias.item()))
