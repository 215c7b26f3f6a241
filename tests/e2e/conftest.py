"""Fixtures of the end-to-end tests that start real system services."""

from tests.slurm import slurm_cluster

__all__ = ["slurm_cluster"]
