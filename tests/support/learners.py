"""Settings that make the learners train in seconds on the tests' 1 s scenarios."""

# validate_seconds: the default, 20 minutes, is 1200 episodes of these 1 s test scenarios
DQN_FAST = dict(num_envs=2, workers=0, learning_starts=60, batch_size=32, train_interval=2,
                target_interval=40, buffer_size=2_000, validate_seconds=2.0)
PPO_FAST = dict(num_envs=2, workers=0, num_steps=20, num_minibatches=2, update_epochs=2)
