"""Delivery: the outbox worker, its lanes and the platform limits they keep."""
