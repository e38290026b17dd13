"""Differential-testing harness: Hypothesis strategies and profiles, parity tables and the
runners that apply one input to the model and to the chain and compare the outcomes.
Used by tests/, `make bench` and the replay tool."""
