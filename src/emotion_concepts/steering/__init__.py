"""Steering: adding (or ablating) a direction in the residual stream, inside a trace."""
