"""Delivery channels. A channel raises DeliveryFailed to be tried again later, DeliveryRefused to give up."""
from __future__ import annotations


class DeliveryFailed(Exception):
    """Not delivered this time (server down, timeout, non-2xx): retried with backoff."""


class DeliveryRefused(DeliveryFailed):
    """Can never be delivered as it stands (recipient inactive, subscription gone): failed at once."""
