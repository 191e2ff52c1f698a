"""Write the shipped aircraft catalogue (imagery_tool/data/aircraft_types.csv) from a hand list.

The hand list below names the wanted types, their ICAO designators and aliases, their kind and
whether they are combat jets. Dimensions come from AllPlanes (Apache-2.0,
https://github.com/mrciolino/AllPlanes, ``data/AllPlanes.csv``) by ICAO code where it has the
type, otherwise from the published figure named in the entry. The thirteen types the synthetic
scene generator draws keep the figures they were drawn with (their sources are named too).

Usage::

    python tools/build_aircraft_catalogue.py \
        --allplanes ../shared/aircraft_allplanes/data/AllPlanes.csv

Run it again after editing the hand list; the output is deterministic.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, not an installed one

# Size classes, in metres of the larger of length and span (combat jets and helicopters apart):
# the catalogue module's own thresholds, so that a measured size is classed the same way.
from imagery_tool.aircraft_catalogue import HEAVY_M, MEDIUM_M  # noqa: E402

OUT = ROOT / "imagery_tool" / "data" / "aircraft_types.csv"
ALLPLANES = "AllPlanes (Apache-2.0, github.com/mrciolino/AllPlanes c1d7b01)"
WIKI = "Wikipedia: "

# (name, ICAO designators (the first is the AllPlanes row used), kind, combat jet?, role,
#  aliases, own figures (length_m, span_m, source) or None for AllPlanes)
F, H = "fixed-wing", "helicopter"
TYPES: list[tuple] = [
    # -- the types the synthetic generator draws: figures kept as drawn ------------------------
    ("An-124", ("A124",), F, False, "strategic airlifter", ("Ruslan", "Condor"),
     (69.1, 73.3, WIKI + "Antonov An-124 Ruslan")),
    ("An-26", ("AN26",), F, False, "tactical transport", ("Curl",),
     (23.8, 29.2, WIKI + "Antonov An-26")),
    ("Il-76", ("IL76", "IL78"), F, False, "strategic airlifter / tanker",
     ("Candid", "Il-76MD", "Il-78", "Midas"), (46.6, 50.5, WIKI + "Ilyushin Il-76")),
    ("Il-20", ("IL18", "IL20"), F, False, "electronic/signals intelligence",
     ("Coot", "Il-20M", "Il-18", "Il-22"), (35.9, 37.4, WIKI + "Ilyushin Il-20M")),
    ("Tu-154", ("T154",), F, False, "VIP / personnel transport", ("Careless", "Tu-154M"),
     (48.0, 37.6, WIKI + "Tupolev Tu-154")),
    ("Su-24", ("SU24",), F, True, "strike (wings spread 16 deg)", ("Fencer", "Su-24M", "Su-24MR"),
     (22.7, 17.6, WIKI + "Sukhoi Su-24")),
    ("Su-25", ("SU25",), F, True, "close air support", ("Frogfoot", "Su-25SM"),
     (15.5, 14.4, WIKI + "Sukhoi Su-25")),
    ("Su-34", ("SU34",), F, True, "strike fighter", ("Fullback",),
     (23.3, 14.7, WIKI + "Sukhoi Su-34")),
    ("Su-35", ("SU35",), F, True, "air superiority fighter", ("Flanker-E", "Su-35S"),
     (21.9, 15.3, WIKI + "Sukhoi Su-35")),
    ("MiG-29", ("MG29",), F, True, "fighter", ("Fulcrum", "MiG-29SMT"),
     (17.3, 11.4, WIKI + "Mikoyan MiG-29")),
    ("Ka-52", ("KA50", "KA52"), H, False, "attack helicopter (coaxial rotors)",
     ("Alligator", "Hokum-B", "Ka-50"), (13.5, 14.5, WIKI + "Kamov Ka-50 (Ka-52 variant)")),
    ("Mi-8", ("MI8", "MI17"), H, False, "transport helicopter", ("Hip", "Mi-8AMTSh", "Mi-17"),
     (18.2, 21.3, WIKI + "Mil Mi-8")),
    ("Mi-24", ("MI24", "MI35"), H, False, "attack helicopter", ("Hind", "Mi-35", "Mi-35M"),
     (17.5, 17.3, WIKI + "Mil Mi-24")),
    # -- Russian / Soviet transports, airliners, patrol, AEW, bombers --------------------------
    ("An-12", ("AN12",), F, False, "tactical transport", ("Cub",), None),
    ("An-22", ("AN22",), F, False, "heavy turboprop transport", ("Cock", "Antei"), None),
    ("An-30", ("AN30",), F, False, "aerial survey / Open Skies", ("Clank",), None),
    ("An-72", ("AN72", "AN74"), F, False, "STOL transport", ("Coaler", "An-74"), None),
    ("An-148", ("A148",), F, False, "regional jet / transport", ("An-158",), None),
    ("Il-38", ("IL38",), F, False, "maritime patrol", ("May", "Il-38N"), None),
    ("Il-62", ("IL62",), F, False, "long-range airliner / VIP", ("Classic",), None),
    ("Il-96", ("IL96",), F, False, "long-range airliner / VIP", ("Il-96-300",), None),
    ("A-50", ("A50",), F, False, "airborne early warning (Il-76 airframe)",
     ("Mainstay", "Beriev A-50", "A-50U"), None),
    ("Tu-134", ("T134",), F, False, "airliner / trainer", ("Crusty",), None),
    ("Tu-204", ("T204", "T214"), F, False, "airliner / special mission", ("Tu-214",), None),
    ("Tu-22M3", ("T22M",), F, False, "bomber (wings spread; 23.3 m swept)",
     ("Backfire", "Tu-22M"), None),
    ("Tu-95", ("TU95",), F, False, "strategic bomber", ("Bear", "Tu-95MS", "Tu-142"), None),
    ("Tu-160", ("T160",), F, False, "strategic bomber (wings spread; 35.6 m swept)",
     ("Blackjack",), None),
    ("Be-12", ("BE12",), F, False, "amphibious patrol", ("Mail", "Tchaika"), None),
    ("Be-200", (), F, False, "amphibious firefighter / transport", ("Altair", "Be200"),
     (32.05, 32.78, "Beriev Be-200 published specification")),
    ("Yak-42", ("YK42",), F, False, "regional airliner", ("Clobber",), None),
    # -- Russian / Soviet combat jets and trainers ---------------------------------------------
    ("Su-27", ("SU27",), F, True, "fighter", ("Flanker", "Su-27SM", "Su-30", "Su-30SM"), None),
    ("Su-33", ("SU33",), F, True, "carrier fighter", ("Flanker-D", "Su-30MKI"), None),
    ("Su-57", ("SU57",), F, True, "stealth fighter", ("Felon", "T-50"), None),
    ("MiG-31", ("MG31",), F, True, "interceptor", ("Foxhound", "MiG-31BM", "MiG-31K"), None),
    ("Yak-130", ("Y130",), F, True, "jet trainer / light attack", ("Mitten",), None),
    ("L-39", ("L39",), F, True, "jet trainer", ("Albatros",), None),
    # -- Russian helicopters (no helicopters in AllPlanes: manufacturer figures) ----------------
    ("Mi-28", ("MI28",), H, False, "attack helicopter", ("Havoc", "Mi-28N"),
     (17.01, 17.2, "Mil Mi-28N published specification (fuselage length, rotor diameter)")),
    ("Ka-27", ("KA27",), H, False, "naval helicopter (coaxial rotors)",
     ("Helix", "Ka-29", "Ka-31"),
     (11.3, 15.9, "Kamov Ka-27 published specification (fuselage length, rotor diameter)")),
    ("Mi-26", ("MI26",), H, False, "heavy transport helicopter", ("Halo",),
     (40.03, 32.0, "Mil Mi-26 published specification (fuselage length, rotor diameter)")),
    # -- airliners --------------------------------------------------------------------------
    ("A319", ("A319",), F, False, "airliner", ("A-319", "Airbus A319"), None),
    ("A320", ("A320",), F, False, "airliner", ("A-320", "Airbus A320"), None),
    ("A320neo", ("A20N",), F, False, "airliner", ("A-320neo", "Airbus A320neo"), None),
    ("A321", ("A321",), F, False, "airliner", ("A-321", "Airbus A321"), None),
    ("A321neo", ("A21N",), F, False, "airliner", ("A-321neo", "Airbus A321neo"), None),
    ("A330-200", ("A332",), F, False, "wide-body airliner", ("A330", "Airbus A330-200"), None),
    ("A330-300", ("A333",), F, False, "wide-body airliner", ("Airbus A330-300",), None),
    ("A340-300", ("A343",), F, False, "wide-body airliner", ("A340", "Airbus A340-300"), None),
    ("A340-600", ("A346",), F, False, "wide-body airliner", ("Airbus A340-600",), None),
    ("A350-900", ("A359",), F, False, "wide-body airliner", ("A350", "Airbus A350-900"), None),
    ("A350-1000", ("A35K",), F, False, "wide-body airliner", ("Airbus A350-1000",), None),
    ("A380", ("A388",), F, False, "wide-body airliner", ("A-380", "Airbus A380-800"), None),
    ("737-700", ("B737W", "B737"), F, False, "airliner", ("B737", "Boeing 737-700"), None),
    ("737-800", ("B738W", "B738"), F, False, "airliner", ("B737-800", "Boeing 737-800"), None),
    ("737-900", ("B739W", "B739"), F, False, "airliner", ("B737-900", "Boeing 737-900"), None),
    ("737 MAX 8", ("B38M",), F, False, "airliner", ("737 MAX", "Boeing 737 MAX 8"), None),
    ("737 MAX 9", ("B39M",), F, False, "airliner", ("Boeing 737 MAX 9",), None),
    ("747-400", ("B744",), F, False, "wide-body airliner", ("B747", "Boeing 747-400"), None),
    ("747-8", ("B748",), F, False, "wide-body airliner", ("Boeing 747-8",), None),
    ("757-200", ("B752",), F, False, "airliner", ("B757", "Boeing 757-200"), None),
    ("767-300", ("B763",), F, False, "wide-body airliner", ("B767", "Boeing 767-300"), None),
    ("777-200", ("B772",), F, False, "wide-body airliner", ("B777", "Boeing 777-200"), None),
    ("777-300ER", ("B77W",), F, False, "wide-body airliner", ("Boeing 777-300ER",), None),
    ("787-8", ("B788",), F, False, "wide-body airliner", ("B787", "Boeing 787-8"), None),
    ("787-9", ("B789",), F, False, "wide-body airliner", ("Boeing 787-9",), None),
    ("E170", ("E170",), F, False, "regional jet", ("Embraer 170", "ERJ-170"), None),
    ("E175", ("E75L",), F, False, "regional jet", ("Embraer 175", "ERJ-175"), None),
    ("E190", ("E190",), F, False, "regional jet", ("Embraer 190", "ERJ-190"), None),
    ("E195", ("E195",), F, False, "regional jet", ("Embraer 195", "ERJ-195"), None),
    ("CRJ200", ("CRJ2",), F, False, "regional jet", ("CRJ-200", "CRJ100"), None),
    ("CRJ700", ("CRJ7",), F, False, "regional jet", ("CRJ-700",), None),
    ("CRJ900", ("CRJ9",), F, False, "regional jet", ("CRJ-900",), None),
    ("ATR 72", ("AT72", "AT76"), F, False, "regional turboprop", ("ATR-72",), None),
    ("Dash 8 Q400", ("DH8D",), F, False, "regional turboprop", ("Q400", "DHC-8-400"), None),
    # -- Western military transports, tankers, patrol, AEW, bombers, fighters ------------------
    ("C-130", ("C130",), F, False, "tactical transport", ("Hercules", "C-130H", "C-130J"), None),
    ("C-130J-30", ("C13J", "C30J"), F, False, "tactical transport (stretched)",
     ("Super Hercules",), None),
    ("C-17", ("C17",), F, False, "strategic airlifter", ("Globemaster", "Globemaster III"), None),
    ("C-5", ("C5", "C5M"), F, False, "strategic airlifter", ("Galaxy", "C-5M"), None),
    ("KC-135", ("K35R", "K35E", "C135"), F, False, "tanker", ("KC-135R", "Stratotanker"), None),
    ("KC-10", ("KC10",), F, False, "tanker", ("Extender",), None),
    ("A400M", ("A400",), F, False, "tactical / strategic airlifter", ("Atlas",), None),
    ("P-8", ("P8",), F, False, "maritime patrol", ("Poseidon", "P-8A"), None),
    ("E-3", ("E3TF", "E3CF"), F, False, "airborne early warning", ("Sentry", "AWACS"), None),
    ("B-52", ("B52",), F, False, "strategic bomber", ("Stratofortress",), None),
    ("B-1", ("B1",), F, False, "bomber (wings spread)", ("Lancer", "B-1B"), None),
    ("F-15", ("F15",), F, True, "fighter", ("Eagle", "Strike Eagle", "F-15E"), None),
    ("F-16", ("F16",), F, True, "fighter", ("Fighting Falcon", "Viper"), None),
    ("F/A-18", ("F18H",), F, True, "carrier fighter", ("Hornet", "F-18"), None),
    ("F-35", ("F35",), F, True, "stealth fighter", ("Lightning II",), None),
    ("A-10", ("A10",), F, True, "close air support", ("Thunderbolt II", "Warthog"), None),
]  # fmt: skip

COLUMNS = ("name", "icao", "kind", "size_class", "length_m", "span_m", "span_folded_m",
           "role", "aliases", "source")  # fmt: skip


def size_class(kind: str, combat: bool, length_m: float, span_m: float) -> str:
    """Return the inventory size class of a type: helicopter, fighter, heavy, medium, light."""
    if kind == H:
        return "helicopter"
    if combat:
        return "fighter"
    big = max(length_m, span_m)
    return "heavy" if big >= HEAVY_M else "medium" if big >= MEDIUM_M else "light"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def build(allplanes: Path) -> str:
    """Return the catalogue CSV text built from the hand list and the AllPlanes CSV."""
    raw = allplanes.read_bytes()
    rows = {r["ICAO"]: r for r in csv.DictReader(io.StringIO(raw.decode("utf-8")))}
    out = io.StringIO()
    out.write(
        "# Aircraft type catalogue of imagery-tool: published length and span (rotor diameter\n"
        "# for helicopters; span_folded_m: wings fully swept or folded, when they can be).\n"
        "# Written by tools/build_aircraft_catalogue.py; do not edit by hand.\n"
        f"# Dimensions marked AllPlanes come from AllPlanes.csv (sha256 "
        f"{hashlib.sha256(raw).hexdigest()[:16]}), Apache-2.0, github.com/mrciolino/AllPlanes.\n"
        f"# size_class: helicopter; fighter (combat jets, jet trainers); otherwise heavy when the\n"
        f"# larger of length and span is >= {HEAVY_M:g} m, medium >= {MEDIUM_M:g} m, else light.\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    seen: set[str] = set()
    for name, icao, kind, combat, role, aliases, own in TYPES:
        if name in seen:
            raise SystemExit(f"type {name!r} is listed twice")
        seen.add(name)
        row = rows.get(icao[0]) if icao else None
        folded = _number(row["wingspan_swept_folded"]) if row else None
        if own is not None:
            length, span, source = own
        else:
            if row is None:
                raise SystemExit(f"{name}: ICAO {icao[:1]} not in {allplanes}; give its figures")
            length, span = _number(row["length"]), _number(row["wingspan"])
            if length is None or span is None:
                raise SystemExit(f"{name}: AllPlanes row {icao[0]} has no usable length/span")
            source = f"{ALLPLANES} row {icao[0]} ({row['name']})"
        writer.writerow([
            name, " ".join(icao), kind, size_class(kind, combat, length, span),
            f"{length:g}", f"{span:g}", "" if folded is None else f"{folded:g}",
            role, "|".join(aliases), source,
        ])  # fmt: skip
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and write the catalogue."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allplanes", type=Path, required=True, help="AllPlanes.csv")
    parser.add_argument("-o", "--out", type=Path, default=OUT, help=f"output (default {OUT})")
    args = parser.parse_args(argv)
    text = build(args.allplanes)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(TYPES)} types", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
