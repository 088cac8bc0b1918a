"""Avatar state, movement validation, area of interest and snapshot (delta) encoding.

Pure domain code: it never imports aiohttp, socketio, rooms or server. A room
owns one :class:`AvatarWorld`; see ``avatars.world`` for the tick flow, the
delta semantics, backpressure (``step(tick, skip=...)``) and eid reuse.

Modules, one idea each:

- ``models``    value objects: Bounds, InterestConfig, MoveResult, ObserverOutput, StepOutput
- ``movement``  payload validation, speed/bounds clamp, yaw normalisation
- ``store``     struct-of-arrays state (numpy, slots reused) with fast per-move views
- ``interest``  the K nearest within R for all observers at once (grid + summed-area table)
- ``views``     what each observer was last told; enter/gone diff in O(pairs)
- ``snapshot``  vectorised msgpack encoding of the ``snap`` payloads
- ``world``     AvatarWorld, tying them together
- ``errors``    the package's exception tree
"""

from __future__ import annotations

from .errors import AvatarError, AvatarNotFound, DuplicateAvatar, InvalidAvatar, TickOrderError
from .models import Bounds, InterestConfig, MoveResult, ObserverOutput, StepOutput
from .world import AvatarWorld

__all__ = [
    "AvatarError",
    "AvatarNotFound",
    "AvatarWorld",
    "Bounds",
    "DuplicateAvatar",
    "InterestConfig",
    "InvalidAvatar",
    "MoveResult",
    "ObserverOutput",
    "StepOutput",
    "TickOrderError",
]
