"""Checks of organisation codes against the organisations reference: their names, columns and meaning.

Declared here, beside the contracts, so every listing of a contract's checks (the reference document,
the data-quality inventory, version diffs) names them; landing runs them (`nqs.landing.membership`),
since they need the reference file delivered with the sources.
"""

from __future__ import annotations

#: The reference checks landing runs on each code column a contract has.
MEMBERSHIP_CHECKS = {
    "trust_code": ["known_trust_code", "open_trust_code"],
    "site_code": ["known_site_code", "open_site_code", "site_of_trust"],
}

#: What each check against the reference asks, as the contract reference documents it.
CHECK_DESCRIPTIONS = {
    "known_trust_code": "A trust code the organisations reference lists.",
    "open_trust_code": "The trust was open on the row's activity date (after a merger, the successor's "
    "code is used).",
    "known_site_code": "A site code the organisations reference lists.",
    "open_site_code": "The site was open on the row's activity date.",
    "site_of_trust": "The site belongs to the trust named in the same row.",
}
