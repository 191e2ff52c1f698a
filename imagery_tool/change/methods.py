"""The registry of change-detection methods, shared by the API and the command line."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["METHODS", "Method"]


@dataclass(frozen=True)
class Method:
    """How a method prepares the pair and measures change.

    Attributes
    ----------
    description : str
        One line for ``--help`` and the docs.
    register : bool
        Measure the residual misregistration from content (else georeference only).
    normalise : {"local", "global", "none"}
        Radiometric normalisation: tone curve plus local haze fields, tone curve only, none.
    measure : {"robust", "cva"}
        Per-pixel measure: see `imagery_tool.change.measure`.
    threshold : {"noise", "otsu"}
        ``noise``: a multiple of the measured sensor-noise level; ``otsu``: Otsu's threshold
        of the change-vector magnitude.
    objects : {"robust", "plain"}
        ``robust``: merge fragments, drop same-structure changes, opening; ``plain``: connected
        pixels as they are (the textbook pipeline).
    """

    description: str
    register: bool
    normalise: str
    measure: str
    threshold: str
    objects: str


METHODS: dict[str, Method] = {
    "robust": Method(
        "co-registration, tone + haze normalisation, structure- and shadow-aware change, "
        "objects merged and tested (default)",
        register=True,
        normalise="local",
        measure="robust",
        threshold="noise",
        objects="robust",
    ),
    "cva": Method(
        "textbook baseline: change-vector magnitude, Otsu threshold, connected pixels; "
        "georeference only, no normalisation",
        register=False,
        normalise="none",
        measure="cva",
        threshold="otsu",
        objects="plain",
    ),
    "cva-registered": Method(
        "change-vector magnitude with co-registration and tone normalisation, noise "
        "threshold, plain connected regions",
        register=True,
        normalise="global",
        measure="cva",
        threshold="noise",
        objects="plain",
    ),
}
