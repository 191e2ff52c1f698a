"""Follow objects across dates: chain each pair's appeared/disappeared regions into tracks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["DEFAULT_IOU", "DEFAULT_SIZE_TOLERANCE", "Event", "Track", "track_objects"]

DEFAULT_IOU = 0.3  # boxes of one object on two dates overlap at least this much (reference grid)
DEFAULT_SIZE_TOLERANCE = 0.3  # relative length/width difference still "the same object"


@dataclass(frozen=True)
class Event:
    """One changed region of a pair, placed on the reference grid.

    Attributes
    ----------
    pair : int
        ``k`` for the pair of dates ``k`` and ``k + 1``.
    change : {"appeared", "disappeared", "changed"}
    score : float
        Detection confidence in 0..1.
    bbox : tuple of 4 float
        ``(col_min, row_min, col_max, row_max)`` on the reference grid.
    length_m, width_m, area_m2 : float or None
        Size of the region (``None`` without a pixel size).
    source : str
        The pair file it comes from.
    """

    pair: int
    change: str
    score: float
    bbox: tuple[float, float, float, float]
    length_m: float | None = None
    width_m: float | None = None
    area_m2: float | None = None
    source: str = ""

    @property
    def centre(self) -> tuple[float, float]:
        """``(col, row)`` of the box centre on the reference grid."""
        c0, r0, c1, r1 = self.bbox
        return ((c0 + c1) / 2, (r0 + r1) / 2)

    def iou(self, other: tuple[float, float, float, float]) -> float:
        """Intersection over union of two reference-grid boxes."""
        a, b = self.bbox, other
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = iw * ih
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union if union > 0 else 0.0


@dataclass
class Track:
    """One object followed across dates.

    Attributes
    ----------
    first, last : int
        Indexes of the first and last dates it was present on.
    arrived : bool
        Its arrival was seen (an ``appeared`` region between ``first - 1`` and ``first``);
        False for an object already there on the first date.
    departed : bool
        Its departure was seen (gone on date ``last + 1``); False while still present.
    events : list of Event
        The regions that make up the track, in date order.
    notes : list of (int, str)
        Date index and what the tracker inferred there (a state change, an arrival it did not
        see, ...).
    id : str
        ``T01``, ``T02``, ... in order of first date, then position.
    """

    first: int
    last: int
    arrived: bool
    departed: bool = False
    events: list[Event] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    id: str = ""

    @property
    def key_event(self) -> Event:
        """The event that best shows the object: the strongest appeared/disappeared one."""
        main = [e for e in self.events if e.change != "changed"] or self.events
        return max(main, key=lambda e: (e.score, -e.pair))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Box on the reference grid (from `key_event`)."""
        return self.key_event.bbox

    def present_on(self, index: int) -> bool:
        """Whether the object stood there on date ``index``."""
        return self.first <= index <= self.last


def _similar(a: Event | Track, b: Event, tolerance: float) -> bool:
    ea = a.key_event if isinstance(a, Track) else a
    if None in (ea.length_m, ea.width_m, b.length_m, b.width_m):
        return True
    for x, y in ((ea.length_m, b.length_m), (ea.width_m, b.width_m)):
        if abs(x - y) > tolerance * max(x, y):
            return False
    return True


def track_objects(
    events: Sequence[Event],
    n_dates: int,
    *,
    iou_min: float = DEFAULT_IOU,
    size_tolerance: float = DEFAULT_SIZE_TOLERANCE,
) -> tuple[list[Track], list[Event]]:
    """Chain the pairs' regions into object tracks.

    Pairs are read in date order. In each pair, ``disappeared`` regions end the open track
    they overlap (or, without one, make a track of an object present since the first date or
    since an earlier one left the place); ``changed`` regions are a change of state of the
    open track they overlap when the sizes agree, otherwise a replacement (the old object left,
    a new one arrived); ``appeared`` regions start a track (ending an open one at the same
    place, whose departure was then not seen). Matching is by box overlap on the reference
    grid, so an object that appears on date X and disappears on date Y is one track.

    Parameters
    ----------
    events : sequence of Event
        All regions of all pairs, on the reference grid.
    n_dates : int
        Number of dates (pairs are ``0 .. n_dates - 2``).
    iou_min : float
        Smallest box overlap for two regions to be one object.
    size_tolerance : float
        Largest relative length/width difference for a ``changed`` region to be the same
        object in a new state.

    Returns
    -------
    tracks : list of Track
        Ordered by first date, then top to bottom, then left to right; ids ``T01``, ``T02``...
    unmatched : list of Event
        ``changed`` regions that belong to no track (something changed where no object was
        followed: vehicles, surfaces, shadows).
    """
    if n_dates < 2:
        raise ValueError(f"n_dates={n_dates}; a series needs two dates")
    tracks: list[Track] = []
    unmatched: list[Event] = []
    open_: list[Track] = []
    closed: list[Track] = []

    def best(event: Event, pool: list[Track], used: set[int]) -> Track | None:
        scored = [(event.iou(t.bbox), -i, t) for i, t in enumerate(pool) if id(t) not in used]
        scored = [s for s in scored if s[0] >= iou_min]
        return max(scored, key=lambda s: s[:2])[2] if scored else None

    def close(track: Track, last: int) -> None:
        track.last = last
        track.departed = True
        open_.remove(track)
        closed.append(track)

    def start(first: int, arrived: bool, event: Event) -> Track:
        track = Track(first=first, last=n_dates - 1, arrived=arrived, events=[event])
        tracks.append(track)
        open_.append(track)
        return track

    for k in range(n_dates - 1):
        here = sorted(
            (e for e in events if e.pair == k), key=lambda e: (-e.score, e.bbox, e.change)
        )
        used: set[int] = set()
        for event in (e for e in here if e.change == "disappeared"):
            track = best(event, open_, used)
            if track is None:
                earlier = best(event, closed, used)
                if earlier is None:
                    track = start(0, False, event)
                else:
                    track = start(k, True, event)
                    track.notes.append((k, "arrival not seen: first seen when it left"))
            else:
                track.events.append(event)
            used.add(id(track))
            close(track, k)
        for event in (e for e in here if e.change == "changed"):
            track = best(event, open_, used)
            if track is None:
                unmatched.append(event)
                continue
            if _similar(track, event, size_tolerance):
                track.events.append(event)
                track.notes.append((k + 1, "changed state"))
                used.add(id(track))
            else:
                close(track, k)
                used.add(id(track))
                new = start(k + 1, True, event)
                new.notes.append((k + 1, "replaced another object in place"))
                used.add(id(new))
        for event in (e for e in here if e.change == "appeared"):
            track = best(event, open_, used)
            if track is not None:
                close(track, k)
                track.notes.append((k, "departure not seen: another object arrived in place"))
            used.add(id(start(k + 1, True, event)))
    tracks.sort(key=lambda t: (t.first, t.bbox[1], t.bbox[0], t.last))
    width = max(2, len(str(len(tracks))))
    for i, t in enumerate(tracks, start=1):
        t.id = f"T{i:0{width}d}"
        t.notes.sort()
    return tracks, unmatched
