"""The performance model: memory fit, step times, serving dynamics, calibration and prediction.

Pure domain code: no database, no network, no adapters. Callers (app.planning, the CLI, the simulator
profile writer) load catalog rows and pass them in.
"""
