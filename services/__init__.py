"""Limelight's services: one package each, all with the same shape."""
