"""The OpenFeature provider: a thin adapter over evaluation, fed by a store follower."""

from ._flag_provider import FlagProvider
from ._usage import UsageConfig, UsageSnapshot

__all__ = ["FlagProvider", "UsageConfig", "UsageSnapshot"]
