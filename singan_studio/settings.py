"""What every settings dataclass of the studio shares."""

from __future__ import annotations

from dataclasses import replace


class Settings:
    """Mixed into the frozen settings dataclasses (TrainConfig, InstantConfig, ZSSRConfig...)."""

    def with_(self, **changes):
        """A copy with ``changes`` applied. ``None`` means "not given" and keeps the current value,
        so options a user left out can be passed straight through."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
