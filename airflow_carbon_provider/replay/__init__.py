"""Replay: simulate carbon-aware start-time shifting on recorded grid data with the planner the sensor uses."""
