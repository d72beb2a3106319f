"""The synthetic local authorities: England's 153 upper-tier councils, each mapped to one ICB.

Councils with adult social services responsibilities, by kind and NHS region as in England since the
2023 reorganisations: 21 counties (ONS codes E10), 36 metropolitan districts (E08), 33 London
boroughs and the City (E09) and 63 unitary authorities (E06). Codes are ONS-shaped and names
invented, like the trusts'. A council's area does not always fall within one ICB (ONS's lookup maps
lower-tier districts to ICBs, and a few councils straddle two), so each council is mapped to one
**primary ICB**, the one most of its residents live in, within its own region: that is its parent in
the organisations reference and the ICB its figures roll up to. Every ICB has at least one council.
Each council's population aged 65 and over (lognormal by kind: counties largest) sizes its returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.domains import DOMAINS
from nqs.generate.streams import stream

LA_TYPES: tuple[str, ...] = DOMAINS["local_authority_type"]
COUNTY, METROPOLITAN, LONDON, UNITARY = range(len(LA_TYPES))
#: ONS code prefix of each kind of council.
CODE_PREFIX: tuple[str, ...] = ("E10", "E08", "E09", "E06")
#: Councils per region (regions in `organisations.REGIONS` order: London, South West, South East,
#: Midlands, East of England, North West, North East and Yorkshire) and kind (county, metropolitan,
#: London, unitary): 153 in all.
COUNCILS_BY_REGION: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 33, 0),
    (2, 0, 0, 14),
    (6, 0, 0, 13),
    (7, 7, 0, 10),
    (5, 0, 0, 6),
    (1, 15, 0, 7),
    (0, 14, 0, 13),
)
#: Median population aged 65 and over by kind, and the spread of its logarithm.
POPULATION_65: tuple[tuple[float, float], ...] = (
    (170_000.0, 0.35),
    (55_000.0, 0.35),
    (38_000.0, 0.3),
    (45_000.0, 0.6),
)
_NAME_PATTERNS: tuple[str, ...] = (
    "{} County Council",
    "{} Metropolitan Borough Council",
    "London Borough of {}",
    "{} Council",
)
_PLACES = (
    "Avon",
    "Barrow",
    "Beck",
    "Bourne",
    "Castle",
    "Cherry",
    "Clif",
    "Dove",
    "Ever",
    "Farn",
    "Fox",
    "Gold",
    "Grange",
    "Harrow",
    "Heath",
    "Ivy",
    "Kirk",
    "Lark",
    "Lyn",
    "Maple",
    "Moor",
    "New",
    "Old",
    "Over",
    "Pine",
    "Quarry",
    "Raven",
    "Ridge",
    "Sheer",
    "Swan",
    "Tarn",
    "Up",
    "Vale",
    "Weald",
    "Yew",
)
_PLACE_SUFFIXES = ("shire", "borough", "field", "ham", "ington", "mere", "sey", "stow", "well", "wold")
UNKNOWN_CODES = 100


@dataclass(frozen=True)
class LocalAuthorities:
    """The councils as parallel arrays indexed by position."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    kind: np.ndarray  #: index into LA_TYPES
    icb: np.ndarray  #: index of the primary ICB
    population_65: np.ndarray
    #: well-formed ONS codes no council has (planted as unknown codes)
    unknown_codes: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.codes)

    @property
    def types(self) -> list[str]:
        return [LA_TYPES[k] for k in self.kind]


def build_local_authorities(seed: int, icb_region: np.ndarray) -> LocalAuthorities:
    """The councils of every region, each with its primary ICB among the region's ICBs."""
    rng = stream(seed, "local_authorities")
    kinds = np.concatenate(
        [np.repeat(np.arange(len(LA_TYPES)), counts) for counts in COUNCILS_BY_REGION]
    ).astype(np.int64)
    regions = np.repeat(np.arange(len(COUNCILS_BY_REGION)), [sum(c) for c in COUNCILS_BY_REGION])
    icbs = np.empty(len(kinds), dtype=np.int64)
    for region in range(len(COUNCILS_BY_REGION)):
        members = rng.permutation(np.flatnonzero(regions == region))
        region_icbs = np.flatnonzero(icb_region == region)
        if len(members) < len(region_icbs):
            raise ValueError(f"region {region} has fewer councils than ICBs")
        icbs[members[: len(region_icbs)]] = region_icbs  # every ICB gets a council
        icbs[members[len(region_icbs) :]] = rng.choice(region_icbs, len(members) - len(region_icbs))
    medians = np.array([POPULATION_65[k][0] for k in kinds])
    spreads = np.array([POPULATION_65[k][1] for k in kinds])
    population = np.round(medians * np.exp(rng.normal(0.0, 1.0, len(kinds)) * spreads))

    numbers = {kind: iter(rng.permutation(int((kinds == kind).sum())) + 1) for kind in range(len(LA_TYPES))}
    codes = tuple(f"{CODE_PREFIX[k]}{next(numbers[k]):06d}" for k in kinds)
    places = [prefix + suffix for prefix in _PLACES for suffix in _PLACE_SUFFIXES]
    chosen = rng.permutation(len(places))[: len(kinds)]
    names = tuple(_NAME_PATTERNS[k].format(places[i]) for k, i in zip(kinds, chosen, strict=True))
    unknown = tuple(f"E06{number:06d}" for number in range(900, 900 + UNKNOWN_CODES))
    return LocalAuthorities(
        codes=codes,
        names=names,
        kind=kinds,
        icb=icbs,
        population_65=population,
        unknown_codes=unknown,
    )
