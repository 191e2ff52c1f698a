"""Follow objects across dates: chain each pair's appeared/disappeared regions into tracks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "DEFAULT_IOU",
    "DEFAULT_SIZE_TOLERANCE",
    "Event",
    "Track",
    "add_sightings",
    "track_objects",
]

DEFAULT_IOU = 0.3  # boxes of one object on two dates overlap at least this much (reference grid)
DEFAULT_SIZE_TOLERANCE = 0.3  # relative length/width difference still "the same object"


@dataclass(frozen=True)
class Event:
    """One changed region of a pair, placed on the reference grid.

    Attributes
    ----------
    pair : int
        ``k`` for the pair of dates ``k`` and ``k + 1``; for a ``"present"`` sighting (an
        inventory of one date), the date's index minus one.
    change : {"appeared", "disappeared", "changed", "present"}
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
    label : str or None
        What the object is, when an inventory said (a catalogue type).
    """

    first: int
    last: int
    arrived: bool
    departed: bool = False
    events: list[Event] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    id: str = ""
    label: str | None = None

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
    _number(tracks)
    return tracks, unmatched


def _number(tracks: list[Track]) -> None:
    """Sort tracks by first date, then top to bottom, left to right, and give their ids."""
    tracks.sort(key=lambda t: (t.first, t.bbox[1], t.bbox[0], t.last))
    width = max(2, len(str(len(tracks))))
    for i, t in enumerate(tracks, start=1):
        t.id = f"T{i:0{width}d}"
        t.notes.sort()


def add_sightings(
    tracks: Sequence[Track],
    sightings: Sequence[tuple[Event, str | None]],
    n_dates: int,
    *,
    iou_min: float = DEFAULT_IOU,
) -> list[Track]:
    """Add tracks for objects an inventory saw that no change explains.

    Change detection sees an object only when it arrives or leaves: an aircraft parked
    through every date makes no change. A per-date inventory sees it on each date. A sighting
    that overlaps a track present on its date is that object; the others are chained across
    consecutive dates by box overlap into tracks of their own (present from the first date
    when seen there, arrived when first seen later, departed when no longer seen). A change
    track without a label takes the label of a sighting it overlaps.

    Parameters
    ----------
    tracks : sequence of Track
        The change tracks (`track_objects`); copies of them are renumbered with the new ones.
    sightings : sequence of (Event, str or None)
        Each a ``"present"`` event on the reference grid (``pair`` = date index - 1) and what
        the object is (a type name), or ``None``.
    n_dates : int
        Number of dates.
    iou_min : float
        Smallest box overlap for a sighting to be a tracked object, or two sightings one.

    Returns
    -------
    list of Track
        New tracks: copies of the change tracks (labelled from the inventory) and the new
        ones, renumbered (`track_objects`' order). ``tracks`` is not modified.
    """
    tracks = [replace(t, events=list(t.events), notes=list(t.notes)) for t in tracks]
    out = list(tracks)
    chains: list[Track] = []
    by_date: dict[int, list[tuple[Event, str | None]]] = {}
    for event, label in sightings:
        by_date.setdefault(event.pair + 1, []).append((event, label))
    for index in range(n_dates):
        here = sorted(by_date.get(index, []), key=lambda s: (-s[0].score, s[0].bbox))
        used: set[int] = set()
        for event, label in here:
            known = [t for t in tracks if t.present_on(index) and event.iou(t.bbox) >= iou_min]
            if known:  # a change track already follows it: the inventory may say what it is
                for t in known:
                    t.label = t.label or label
                continue
            scored = [
                (event.iou(c.events[-1].bbox), c)
                for c in chains
                if c.last == index - 1 and id(c) not in used
            ]
            scored = [sc for sc in scored if sc[0] >= iou_min]
            if scored:
                chain = max(scored, key=lambda sc: sc[0])[1]
                chain.events.append(event)
                chain.last = index
            else:
                chain = Track(first=index, last=index, arrived=index > 0, events=[event])
                chain.label = label
                chain.notes.append((index, "seen in the inventory (no change detected)"))
                chains.append(chain)
            used.add(id(chain))
    for chain in chains:
        chain.departed = chain.last < n_dates - 1
    out.extend(chains)
    _number(out)
    return out
