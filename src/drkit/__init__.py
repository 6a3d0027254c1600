"""drkit: a self-hosted disaster-recovery control plane."""

__version__ = "0.1.0"
