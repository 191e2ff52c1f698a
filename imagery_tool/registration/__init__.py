"""Co-registration of two dates: resampling by georeference, then a residual fit from content."""

from imagery_tool.registration.coregister import REGISTRATION_MODELS, Registration, coregister
from imagery_tool.registration.grid import GridMapping
from imagery_tool.registration.pair import AlignedPair

__all__ = ["REGISTRATION_MODELS", "AlignedPair", "GridMapping", "Registration", "coregister"]
