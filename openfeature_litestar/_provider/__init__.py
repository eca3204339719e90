"""The OpenFeature provider: a thin adapter over evaluation, fed by a store follower."""

from ._flag_provider import FlagProvider

__all__ = ["FlagProvider"]
