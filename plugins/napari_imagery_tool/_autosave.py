"""Autosave: a session's edits written to its store at once, kept safe while the store is locked.

Edits queue in `Autosave.pending` and are written in order. A store locked by another program
(`StoreLockedError`) keeps them queued, in memory and in ``<store>.unsaved.json``, and they are
retried with the next edit or `Autosave.flush`; the next session that opens the store restores
what an earlier one could not save. Nothing is dropped, except an edit that conflicts with
another user's edit of the same box (reported, and the box reloaded).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from imagery_tool.annotations import AnnotationStore, BoxAnnotation
from imagery_tool.annotations.store import StoreConflictError
from imagery_tool.errors import StoreError, StoreLockedError
from napari_imagery_tool._notify import notify

__all__ = ["Autosave", "Edit"]

# (action, payload): ("add", box), ("update", [box, ...]) or ("delete", box id)
Edit = tuple[str, object]

log = logging.getLogger(__name__)


class Autosave:
    """The edits of one session on their way to its store.

    Parameters
    ----------
    store : AnnotationStore
        The session's store, open for writing.
    write : callable
        ``write(action, payload)`` writes one edit to the store (and lets the session take the
        stored boxes' revisions); raises what the store raises.
    reload : callable
        Rebuilds the session from the store: after a conflict, and after restored edits are
        saved.
    """

    def __init__(
        self,
        store: AnnotationStore,
        *,
        write: Callable[[str, object], None],
        reload: Callable[[], None],
    ) -> None:
        self.store = store
        self.pending: list[Edit] = []
        self.blocked = False  # the store refused the last write (locked)
        self._write = write
        self._reload = reload

    @property
    def rescue_path(self) -> Path:
        """Where edits the store has not taken yet are kept on disk (``<store>.unsaved.json``)."""
        return self.store.path.with_suffix(".unsaved.json")

    def save(self, action: str, payload: object) -> bool:
        """Queue one edit and write every queued edit; return whether all are in the store."""
        self.pending.append((action, payload))
        return self.flush()

    def flush(self) -> bool:
        """Write the queued edits to the store; return whether none is left.

        Edits a locked store refuses stay queued (and in `rescue_path`); a conflict with
        another user's edit is reported and that edit is dropped after reloading.
        """
        while self.pending:
            action, payload = self.pending[0]
            try:
                self._write(action, payload)
            except StoreConflictError as exc:
                notify(str(exc), "warning")
                self.pending.pop(0)
                self._reload()
                continue
            except StoreLockedError:
                self._hold(
                    f"{self.store.path}: the store is locked by another process; edits are "
                    f"kept (and in {self.rescue_path.name}) and saved when it is free"
                )
                return False
            except (StoreError, OSError) as exc:
                self._hold(str(exc).splitlines()[0])
                return False
            self.pending.pop(0)
        if self.blocked:
            self.blocked = False
            self.rescue_path.unlink(missing_ok=True)
            notify(f"{self.store.path}: the store is free again; every pending edit is saved")
        return True

    def _hold(self, message: str) -> None:
        """Keep the queued edits (on disk too) and say why, once rather than at every retry."""
        if not self.blocked:
            notify(message, "warning")
        self.blocked = True
        self._write_rescue()

    def _write_rescue(self) -> None:
        records = []
        for action, payload in self.pending:
            for item in payload if isinstance(payload, list) else [payload]:
                box = item.to_dict() if isinstance(item, BoxAnnotation) else {"id": item}
                records.append({"action": action, "box": box})
        tmp = self.rescue_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(records, indent=1))
            tmp.replace(self.rescue_path)
        except OSError as exc:  # pragma: no cover - read-only folder
            log.warning("cannot write %s: %s", self.rescue_path, exc)

    def restore(self, show: Callable[[BoxAnnotation], None]) -> None:
        """Queue and save the edits an earlier session could not save (a locked store at exit).

        Parameters
        ----------
        show : callable
            ``show(box)`` puts a restored new box on the layer.
        """
        path = self.rescue_path
        if not path.is_file():
            return
        try:
            records = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            notify(f"{path}: unsaved edits not readable ({exc}); the file is left as it is")
            return
        restored = 0
        for record in records:
            action, data = record.get("action"), record.get("box", {})
            try:
                if action == "add" and data.get("id") not in self.store:
                    box = BoxAnnotation.from_dict({**data, "revision": 0})
                    self.pending.append(("add", box))
                    show(box)
                elif action == "update" and data.get("id") in self.store:
                    stored = self.store.get(data["id"])
                    if stored.modified <= data.get("modified", ""):  # else edited since
                        box = BoxAnnotation.from_dict({**data, "revision": stored.revision})
                        self.pending.append(("update", [box]))
                elif action == "delete" and data.get("id") in self.store:
                    self.pending.append(("delete", data["id"]))
                else:
                    continue
            except (KeyError, ValueError, TypeError):
                continue
            restored += 1
        if self.flush():
            path.unlink(missing_ok=True)
            self._reload()
        notify(f"{restored} edit(s) left unsaved by an earlier session restored from {path.name}")
