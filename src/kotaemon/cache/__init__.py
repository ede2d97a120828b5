"""Caches shared by the replicas of a deployment (Redis), or kept in the process without it."""
