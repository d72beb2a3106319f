"""The synthetic organisation reference: regions, integrated care boards, trusts, sites, one merger.

Shaped like ODS: 7 regions, 42 ICBs, about 210 trusts of five types, 1-4 sites each. Codes and names
are invented (place names are built from syllables) so nothing can be mistaken for a real trust's
figures. Trust size is lognormal, so per-trust volumes vary as they do nationally. The 153 upper-tier
local authorities, each under its primary ICB, come from `nqs.generate.local_authorities` (their own
random stream, so the NHS organisations do not depend on them).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from nqs.generate.local_authorities import LocalAuthorities, build_local_authorities
from nqs.generate.periods import Month, day_number
from nqs.generate.sampling import categorical, dates, with_nulls
from nqs.generate.streams import stream

TRUST_TYPES: tuple[str, ...] = ("acute", "mental_health", "community", "ambulance", "specialist")
ACUTE, MENTAL_HEALTH, COMMUNITY, AMBULANCE, SPECIALIST = range(len(TRUST_TYPES))
TRUST_TYPE_COUNTS: tuple[int, ...] = (120, 50, 15, 10, 15)

REGIONS: tuple[tuple[str, str], ...] = (
    ("Y56", "London"),
    ("Y58", "South West"),
    ("Y59", "South East"),
    ("Y60", "Midlands"),
    ("Y61", "East of England"),
    ("Y62", "North West"),
    ("Y63", "North East and Yorkshire"),
)
ICBS_PER_REGION: tuple[int, ...] = (5, 7, 6, 10, 6, 4, 4)
AMBULANCE_TRUSTS_PER_REGION: tuple[int, ...] = (1, 1, 2, 2, 1, 1, 2)

# Relative size of a trust (median, spread of log size): acute trusts are the biggest employers
# and reporters; specialist trusts are small but vary most.
SIZE_BY_TYPE: tuple[tuple[float, float], ...] = (
    (1.0, 0.5),
    (0.55, 0.35),
    (0.45, 0.4),
    (0.75, 0.3),
    (0.3, 0.5),
)
SITES_BY_TYPE: tuple[tuple[float, ...], ...] = (
    (0.15, 0.35, 0.30, 0.20),
    (0.30, 0.35, 0.25, 0.10),
    (0.40, 0.35, 0.20, 0.05),
    (0.50, 0.30, 0.15, 0.05),
    (0.60, 0.30, 0.10, 0.00),
)
OPEN_DATE = date(2000, 4, 1)

_PREFIXES = (
    "Ash",
    "Bark",
    "Bel",
    "Black",
    "Brad",
    "Bram",
    "Brook",
    "Burn",
    "Cal",
    "Carl",
    "Chal",
    "Church",
    "Clay",
    "Cold",
    "Crow",
    "Dal",
    "Dun",
    "East",
    "Elm",
    "Fair",
    "Fen",
    "Glen",
    "Green",
    "Hart",
    "Hay",
    "High",
    "Hol",
    "Kings",
    "Lang",
    "Lee",
    "Long",
    "Marl",
    "Mill",
    "Nor",
    "Oak",
    "Pen",
    "Red",
    "Rose",
    "Rye",
    "Salt",
    "Sand",
    "Shep",
    "South",
    "Stan",
    "Stone",
    "Sut",
    "Thorn",
    "Wal",
    "West",
    "Whit",
    "Wick",
    "Wil",
    "Win",
    "Wood",
)
_SUFFIXES = (
    "bury",
    "by",
    "caster",
    "chester",
    "combe",
    "cott",
    "dale",
    "den",
    "don",
    "field",
    "ford",
    "gate",
    "ham",
    "holme",
    "hurst",
    "ing",
    "leigh",
    "ley",
    "mere",
    "minster",
    "mouth",
    "port",
    "stead",
    "stow",
    "thorpe",
    "ton",
    "well",
    "wick",
    "worth",
)
_TRUST_NAME_PATTERNS: tuple[tuple[str, ...], ...] = (
    ("{} Hospitals NHS Foundation Trust", "{} University Hospitals NHS Trust", "{} and District NHS Trust"),
    ("{} Partnership NHS Foundation Trust", "{} Mental Health NHS Trust", "{} Health and Care NHS Trust"),
    ("{} Community Health NHS Trust", "{} Community Services NHS Trust"),
    ("{} Ambulance Service NHS Trust",),
    (
        "{} Orthopaedic Hospital NHS Foundation Trust",
        "{} Children's NHS Foundation Trust",
        "{} Heart and Chest NHS Foundation Trust",
        "{} Cancer Centre NHS Foundation Trust",
    ),
)
_SITE_NAME_PATTERNS: tuple[tuple[str, ...], ...] = (
    ("{} General Hospital", "{} Royal Infirmary", "{} Community Hospital", "{} District Hospital"),
    ("{} House", "{} Unit", "{} Centre"),
    ("{} Health Centre", "{} Clinic"),
    ("{} Ambulance Station", "{} Operations Centre"),
    ("{} Hospital", "{} Centre"),
)
_ALPHANUMERIC = string.digits + string.ascii_uppercase


@dataclass(frozen=True)
class Merger:
    """One trust absorbed by another at a month end inside the span.

    Records dated after `close_day` carry the successor's trust code and the successor's new site
    codes (`new_sites`, aligned with the closed trust's own sites).
    """

    trust: int
    successor: int
    close_day: int
    close_month_index: int
    new_sites: np.ndarray

    def applies(self, month: Month) -> bool:
        """Whether records of this month are reported under the successor's codes."""
        return month.index > self.close_month_index


@dataclass(frozen=True)
class Organisations:
    """All organisation levels as parallel arrays indexed by position (trust index, site index)."""

    region_codes: tuple[str, ...]
    region_names: tuple[str, ...]
    icb_codes: tuple[str, ...]
    icb_names: tuple[str, ...]
    icb_region: np.ndarray
    trust_codes: tuple[str, ...]
    trust_names: tuple[str, ...]
    trust_type: np.ndarray
    trust_icb: np.ndarray
    trust_size: np.ndarray
    trust_first_site: np.ndarray
    trust_site_count: np.ndarray
    site_codes: tuple[str, ...]
    site_names: tuple[str, ...]
    site_trust: np.ndarray
    merger: Merger
    unknown_trust_codes: tuple[str, ...]
    local_authorities: LocalAuthorities

    @property
    def n_trusts(self) -> int:
        return len(self.trust_codes)

    def trusts_of_type(self, *types: int) -> np.ndarray:
        """Indices of trusts of the given types."""
        return np.flatnonzero(np.isin(self.trust_type, types))

    def reporting_trust_codes(self, month: Month) -> list[str]:
        """Trust code each trust's records carry in `month` (the successor's after a merger)."""
        codes = list(self.trust_codes)
        if self.merger.applies(month):
            codes[self.merger.trust] = self.trust_codes[self.merger.successor]
        return codes

    def reporting_site_codes(self, month: Month) -> list[str]:
        """Site code each site's records carry in `month` (the successor's new sites after a merger)."""
        codes = list(self.site_codes)
        if self.merger.applies(month):
            first = self.trust_first_site[self.merger.trust]
            for offset, new_site in enumerate(self.merger.new_sites):
                codes[first + offset] = self.site_codes[new_site]
        return codes

    def pick_sites(self, rng: np.random.Generator, trusts: np.ndarray) -> np.ndarray:
        """A site for each record of `trusts`, the main (first) site taking the largest share."""
        counts = self.trust_site_count[trusts]
        offsets = np.floor(counts * rng.random(len(trusts)) ** 1.6).astype(np.int64)
        return self.trust_first_site[trusts] + np.minimum(offsets, counts - 1)

    def frame(self) -> pl.DataFrame:
        """The `organisations.csv` table: one row per region, ICB, trust and site."""
        return _organisation_frame(self)


def _place_names(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct invented place names ("Oakford", "Saltwick"), shuffled by the seed."""
    names = [prefix + suffix for prefix in _PREFIXES for suffix in _SUFFIXES]
    order = rng.permutation(len(names))
    if count > len(names):
        raise ValueError(f"need {count} place names, only {len(names)} can be built")
    return [names[i] for i in order[:count]]


def _codes(rng: np.random.Generator, first_letter: str) -> list[str]:
    """Every `<letter><alnum><alnum>` code in a seed-dependent order (ODS-style 3-character codes)."""
    codes = [first_letter + a + b for a in _ALPHANUMERIC for b in _ALPHANUMERIC]
    return [codes[i] for i in rng.permutation(len(codes))]


def _assign_trusts_to_icbs(rng: np.random.Generator, icb_region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trust type and ICB of every trust: each ICB gets an acute trust, ambulance trusts by region."""
    n_icbs = len(icb_region)
    icb_weight = rng.lognormal(0.0, 0.4, n_icbs)
    icb_probs = icb_weight / icb_weight.sum()
    types: list[np.ndarray] = []
    icbs: list[np.ndarray] = []
    for trust_type, count in enumerate(TRUST_TYPE_COUNTS):
        if trust_type == AMBULANCE:
            regions = np.repeat(np.arange(len(REGIONS)), AMBULANCE_TRUSTS_PER_REGION)
            chosen = np.array([rng.choice(np.flatnonzero(icb_region == r)) for r in regions])
        elif trust_type == ACUTE:
            chosen = np.concatenate([np.arange(n_icbs), rng.choice(n_icbs, size=count - n_icbs, p=icb_probs)])
        else:
            chosen = rng.choice(n_icbs, size=count, p=icb_probs)
        types.append(np.full(count, trust_type))
        icbs.append(np.sort(chosen))
    return np.concatenate(types), np.concatenate(icbs)


def _choose_merger(
    rng: np.random.Generator,
    trust_type: np.ndarray,
    trust_icb: np.ndarray,
    size: np.ndarray,
    site_count: np.ndarray,
) -> tuple[int, int]:
    """A mid-sized acute trust and a larger acute neighbour in its ICB that absorbs it.

    Mid-sized so the trusts chosen for planted outliers (the largest) are not involved; the two
    trusts' sites together stay within four so the successor still looks like a real trust.
    """
    acute = np.flatnonzero(trust_type == ACUTE)
    ranked = acute[np.argsort(-size[acute], kind="stable")]
    band = ranked[len(ranked) // 3 : 2 * len(ranked) // 3]
    pairs = []
    for trust in band:
        neighbours = ranked[(trust_icb[ranked] == trust_icb[trust]) & (ranked != trust)]
        for successor in neighbours:
            if site_count[trust] + site_count[successor] <= 4 and successor in band:
                pairs.append((int(trust), int(successor)))
    if not pairs:
        trust = int(band[0])
        others = acute[acute != trust]
        return trust, int(others[0])
    return pairs[int(rng.integers(len(pairs)))]


def build_organisations(seed: int, span: list[Month]) -> Organisations:
    """The organisation reference for a seed; the merger closes at the end of the span's middle month."""
    rng = stream(seed, "organisations")
    region_codes = tuple(code for code, _ in REGIONS)
    region_names = tuple(f"NHS England {name}" for _, name in REGIONS)
    icb_region = np.repeat(np.arange(len(REGIONS)), ICBS_PER_REGION)
    n_icbs = len(icb_region)
    trust_type, trust_icb = _assign_trusts_to_icbs(rng, icb_region)
    n_trusts = len(trust_type)

    places = _place_names(rng, n_icbs + n_trusts + 4 * n_trusts)
    icb_places = places[:n_icbs]
    trust_places = places[n_icbs : n_icbs + n_trusts]
    site_places = places[n_icbs + n_trusts :]
    icb_codes = tuple(_codes(rng, "Q")[:n_icbs])
    icb_names = tuple(f"NHS {place} Integrated Care Board" for place in icb_places)
    all_trust_codes = _codes(rng, "R")
    trust_codes = tuple(all_trust_codes[:n_trusts])
    unknown_trust_codes = tuple(all_trust_codes[n_trusts : n_trusts + 100])
    trust_names = tuple(
        rng.choice(_TRUST_NAME_PATTERNS[t]).format(trust_places[i]) for i, t in enumerate(trust_type)
    )

    medians = np.array([SIZE_BY_TYPE[t][0] for t in trust_type])
    spreads = np.array([SIZE_BY_TYPE[t][1] for t in trust_type])
    trust_size = medians * np.exp(rng.normal(0.0, 1.0, n_trusts) * spreads)
    site_count = np.array([categorical(rng, SITES_BY_TYPE[t], 1)[0] + 1 for t in trust_type])
    first_site = np.concatenate([[0], np.cumsum(site_count)[:-1]])

    site_codes: list[str] = []
    site_names: list[str] = []
    site_trust: list[int] = []
    for trust in range(n_trusts):
        for number in range(site_count[trust]):
            place = trust_places[trust] if number == 0 else site_places[len(site_codes)]
            site_codes.append(f"{trust_codes[trust]}{number + 1:02d}")
            site_names.append(rng.choice(_SITE_NAME_PATTERNS[trust_type[trust]]).format(place))
            site_trust.append(trust)

    merged, successor = _choose_merger(rng, trust_type, trust_icb, trust_size, site_count)
    close_month = span[max(0, len(span) // 2 - 1)]
    new_sites = []
    for offset in range(site_count[merged]):
        new_sites.append(len(site_codes))
        site_codes.append(f"{trust_codes[successor]}{site_count[successor] + offset + 1:02d}")
        site_names.append(site_names[first_site[merged] + offset])
        site_trust.append(successor)
    merger = Merger(
        trust=merged,
        successor=successor,
        close_day=close_month.last_day,
        close_month_index=close_month.index,
        new_sites=np.array(new_sites),
    )
    return Organisations(
        region_codes=region_codes,
        region_names=region_names,
        icb_codes=icb_codes,
        icb_names=icb_names,
        icb_region=icb_region,
        trust_codes=trust_codes,
        trust_names=trust_names,
        trust_type=trust_type,
        trust_icb=trust_icb,
        trust_size=trust_size,
        trust_first_site=first_site,
        trust_site_count=site_count,
        site_codes=tuple(site_codes),
        site_names=tuple(site_names),
        site_trust=np.array(site_trust),
        merger=merger,
        unknown_trust_codes=unknown_trust_codes,
        local_authorities=build_local_authorities(seed, icb_region),
    )


def _organisation_frame(orgs: Organisations) -> pl.DataFrame:
    """Rows per level, closing dates and successors filled in for the merger only."""
    merger = orgs.merger
    n_regions, n_icbs, n_trusts, n_sites = (
        len(orgs.region_codes),
        len(orgs.icb_codes),
        orgs.n_trusts,
        len(orgs.site_codes),
    )
    councils = orgs.local_authorities
    codes = [*orgs.region_codes, *orgs.icb_codes, *orgs.trust_codes, *orgs.site_codes, *councils.codes]
    names = [*orgs.region_names, *orgs.icb_names, *orgs.trust_names, *orgs.site_names, *councils.names]
    levels = ["region"] * n_regions + ["icb"] * n_icbs + ["trust"] * n_trusts + ["site"] * n_sites
    levels += ["local_authority"] * councils.count
    trust_types = [TRUST_TYPES[t] for t in orgs.trust_type]
    types = ["region"] * n_regions + ["icb"] * n_icbs + trust_types + ["site"] * n_sites + councils.types
    parents: list[str | None] = [None] * n_regions
    parents += [orgs.region_codes[r] for r in orgs.icb_region]
    parents += [orgs.icb_codes[i] for i in orgs.trust_icb]
    parents += [orgs.trust_codes[t] for t in orgs.site_trust]
    parents += [orgs.icb_codes[i] for i in councils.icb]

    open_days = np.full(len(codes), day_number(OPEN_DATE))
    close_days = np.full(len(codes), -1)
    successors: list[str | None] = [None] * len(codes)
    trust_row = n_regions + n_icbs + merger.trust
    close_days[trust_row] = merger.close_day
    successors[trust_row] = orgs.trust_codes[merger.successor]
    site_row0 = n_regions + n_icbs + n_trusts
    for offset, new_site in enumerate(merger.new_sites):
        old_row = site_row0 + orgs.trust_first_site[merger.trust] + offset
        close_days[old_row] = merger.close_day
        successors[old_row] = orgs.site_codes[new_site]
        open_days[site_row0 + new_site] = merger.close_day + 1

    close = with_nulls(dates(np.maximum(close_days, 0)), close_days < 0)
    frame = pl.DataFrame(
        {
            "org_code": codes,
            "org_name": names,
            "org_level": levels,
            "org_type": types,
            "parent_code": pl.Series(parents, dtype=pl.String),
            "open_date": dates(open_days),
            "close_date": close,
            "successor_code": pl.Series(successors, dtype=pl.String),
        }
    )
    ranks = {"region": 0, "icb": 1, "trust": 2, "site": 3, "local_authority": 4}
    level_rank = pl.col("org_level").replace_strict(ranks)
    return frame.sort(level_rank, pl.col("org_code"))
