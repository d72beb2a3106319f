"""Checks of organisation codes against the organisations reference: their names, columns and meaning.

Trust and site codes (ODS) and local authority codes (ONS, from organisations version 2) are
checked the same way: known to the reference, and open on the activity date.

Declared here, beside the contracts, so every listing of a contract's checks (the reference document,
the data-quality inventory, version diffs) names them; landing runs them (`nqs.landing.membership`),
since they need the reference file delivered with the sources.
"""

from __future__ import annotations

#: The reference checks landing runs on each code column a contract has.
MEMBERSHIP_CHECKS = {
    "trust_code": ["known_trust_code", "open_trust_code"],
    "site_code": ["known_site_code", "open_site_code", "site_of_trust"],
    "la_code": ["known_la_code", "open_la_code"],
}

#: What each check against the reference asks, as the contract reference documents it.
CHECK_DESCRIPTIONS = {
    "known_trust_code": "A trust code the organisations reference lists.",
    "open_trust_code": "The trust was open on the row's activity date (after a merger, the successor's "
    "code is used).",
    "known_site_code": "A site code the organisations reference lists.",
    "open_site_code": "The site was open on the row's activity date.",
    "site_of_trust": "The site belongs to the trust named in the same row.",
    "known_la_code": "A local authority code the organisations reference lists.",
    "open_la_code": "The local authority existed on the row's activity date (after a reorganisation, "
    "the successor council's code is used).",
}
