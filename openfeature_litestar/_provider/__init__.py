"""The OpenFeature provider: a thin adapter over evaluation, fed by a store follower."""

from ._flag_provider import FlagProvider
from ._tracking import OTHER_EVENT_NAMES
from ._usage import UsageConfig, UsageSnapshot

__all__ = ["OTHER_EVENT_NAMES", "FlagProvider", "UsageConfig", "UsageSnapshot"]
