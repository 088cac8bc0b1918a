"""What every observer has been told: the visible pairs of its last delivered snap.

Pairs are ``(observer slot, candidate slot)``. A dense ``capacity²`` byte
matrix answers "was this pair delivered?" in O(1) per pair, so diffing a
tick's visible pairs against the delivered ones costs O(pairs) with no sort:
bit 0 = delivered, bit 1 = visible this tick (scratch, cleared again).
The pair list itself is kept alongside (order irrelevant) to enumerate what
an observer holds. 1 MB at 1,024 slots, 16 MB at 4,096.

Removals are folded in before diffing, because a freed slot may already be
reused by a new avatar: every delivered pair that names a removed slot
becomes a *pending gone* record ``(observer slot, eid)`` that is emitted with
that observer's next delivered snap (it may be skipped for a while), and the
removed observer's own pairs are dropped.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["ViewTracker"]

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
_EMPTY = np.empty(0, np.int64)


class ViewTracker:
    """Delivered visible pairs per observer, and the diff against a new tick."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._mat = np.zeros(capacity * capacity, np.uint8)
        self.obs: I64 = _EMPTY
        """Observer slot of each delivered pair."""
        self.cand: I64 = _EMPTY
        """Candidate slot of each delivered pair."""
        self.cand_eid: I64 = _EMPTY
        """Candidate eid of each delivered pair (slots can be reused, eids are not)."""
        self._gone_obs: I64 = _EMPTY
        self._gone_eid: I64 = _EMPTY

    def resize(self, capacity: int) -> None:
        """Follow the store growing to ``capacity`` slots."""
        mat = np.zeros(capacity * capacity, np.uint8)
        mat[self.obs * capacity + self.cand] = 1
        self._mat, self.capacity = mat, capacity

    def remove(self, removed: I64) -> None:
        """Fold in slots freed since the last step (given once each, any order)."""
        if removed.shape[0] == 0:
            return
        gone = np.zeros(self.capacity, np.bool_)
        gone[removed] = True
        by_obs, by_cand = gone[self.obs], gone[self.cand]
        drop = by_obs | by_cand
        self._mat[self.obs[drop] * self.capacity + self.cand[drop]] = 0
        pend = by_cand & ~by_obs
        keep_pending = ~gone[self._gone_obs]
        self._gone_obs = np.concatenate([self._gone_obs[keep_pending], self.obs[pend]])
        self._gone_eid = np.concatenate([self._gone_eid[keep_pending], self.cand_eid[pend]])
        keep = ~drop
        self.obs, self.cand, self.cand_eid = self.obs[keep], self.cand[keep], self.cand_eid[keep]

    def diff(
        self, obs: I64, cand: I64, cand_eid: I64, skipped: Mask | None
    ) -> tuple[Mask, Mask, I64, I64]:
        """Diff this tick's visible pairs against the delivered ones and commit.

        ``skipped`` is indexed by slot (None: nobody). Returns ``shown`` (mask over
        the new pairs delivered now), ``entered`` (subset of ``shown``: new to the
        observer) and the gone records ``(observer slot, eid)`` due now.

        Pairs of skipped observers are not shown and their delivered pairs stay.
        A reused eid that an observer is still owed the ``gone`` of (it was skipped
        while the old holder left) is not shown either: it enters one delivery later,
        so no snap holds the same eid in ``gone`` and in its rows.
        """
        cap, mat = self.capacity, self._mat
        new = obs * cap + cand
        old = self.obs * cap + self.cand
        seen = mat[new]
        mat[new] = seen | 2
        gone = mat[old] < 2
        if skipped is None:
            shown = np.ones(obs.shape[0], np.bool_)
            mat[old] = 0
        else:
            shown = ~skipped[obs]
            deliver_old = ~skipped[self.obs]
            gone &= deliver_old
            mat[old[deliver_old]] = 0
        gone_obs, gone_eid = self.obs[gone], self.cand_eid[gone]
        entered = shown & (seen == 0)
        if self._gone_obs.shape[0]:  # left the world (see remove)
            due = np.ones(self._gone_obs.shape[0], np.bool_)
            if skipped is not None:
                due = ~skipped[self._gone_obs]
            due_obs, due_eid = self._gone_obs[due], self._gone_eid[due]
            self._gone_obs, self._gone_eid = self._gone_obs[~due], self._gone_eid[~due]
            gone_obs = np.concatenate([gone_obs, due_obs])
            gone_eid = np.concatenate([gone_eid, due_eid])
            # Only these can clash with an entering pair: a pair that merely left the
            # view has the same slot as any re-entry, so it cannot be gone and new.
            if due_obs.shape[0] and entered.any():
                ei = np.flatnonzero(entered)
                clash = ei[np.isin(obs[ei] << 32 | cand_eid[ei], due_obs << 32 | due_eid)]
                shown[clash] = entered[clash] = False
        if skipped is None and shown.all():
            mat[new] = 1
            self.obs, self.cand, self.cand_eid = obs, cand, cand_eid
        else:
            mat[new[shown]] = 1
            mat[new[~shown]] &= 1
            hold = np.zeros(self.obs.shape[0], np.bool_) if skipped is None else skipped[self.obs]
            self.obs = np.concatenate([self.obs[hold], obs[shown]])
            self.cand = np.concatenate([self.cand[hold], cand[shown]])
            self.cand_eid = np.concatenate([self.cand_eid[hold], cand_eid[shown]])
        return shown, entered, gone_obs, gone_eid

    def held_by(self, slot: int) -> list[int]:
        """eids the observer in ``slot`` has been told about, ascending."""
        return sorted(self.cand_eid[self.obs == slot].tolist())
