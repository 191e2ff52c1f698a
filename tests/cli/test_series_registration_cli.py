"""``imagery-tool series`` text output names the dates placed by georeference only."""

from __future__ import annotations

from imagery_tool.cli.series import format_report


def test_fallback_dates_are_listed_under_their_site():
    reason = "content estimate refused (3 of 38 windows agree on dx +41.2, dy -12.0 px)"
    site = {
        "site": "hmeimim", "outdir": "out", "dates": ["2024-11-01", "2024-11-04", "2024-11-07"],
        "pairs": ["a", "b"], "computed": ["a", "b"], "reused": [], "objects": 0, "timeline": {},
        "registrations": {
            "hmeimim_2024-11-04": {"status": "applied", "reason": None, "confidence": 0.9},
            "hmeimim_2024-11-07": {"status": "fallback", "reason": reason, "confidence": 0.08},
        },
    }  # fmt: skip
    record = {"sites": [site], "skipped": [], "throughput_mp_s": None, "engine": "threads",
              "seconds": 1.0, "megapixels": 0.0}  # fmt: skip
    lines = format_report(record).splitlines()
    assert lines[1] == f"  hmeimim_2024-11-07: placed by georeference only — {reason}"
    assert not any("2024-11-04: placed" in line for line in lines)
