"""The manifest's planted truths: each metric a planted effect moves, listed once, in the right entry."""

from __future__ import annotations

from types import SimpleNamespace

from nqs.generate.truths import ALSO_AFFECTED, ALSO_SHOWN_BY, PlantedTruths


def test_a_metric_showing_another_metric_s_effect_lists_both_metrics_trusts() -> None:
    codes = [f"T{i}" for i in range(12)]
    truths = PlantedTruths(
        worse={
            "incident_moderate_harm_share": (0, 1),
            "medication_incident_harm_share": (2, 3),
            "incident_reporting_rate": (4, 5),
            "vacancy_rate": (6, 7),
        },
        deteriorating=(),
        n_trusts=len(codes),
    )
    orgs = SimpleNamespace(trust_codes=codes)
    worse, _ = truths.manifest(orgs, [])
    # planted on the metric itself, kept; never replaced by another metric's trusts
    assert worse["medication_incident_harm_share"] == ["T2", "T3"]
    assert worse["agency_staffing_share"] == ["T6", "T7"]
    affected = truths.also_affected(orgs)
    assert affected["medication_incident_harm_share"] == ["T0", "T1"]
    assert affected["incident_moderate_harm_share"] == ["T2", "T3"]
    assert affected["incident_moderate_harm_rate"] == ["T0", "T1", "T2", "T3", "T4", "T5"]
    assert affected["incident_severe_harm_share"] == ["T0", "T1", "T2", "T3"]
    assert affected["medication_incident_reporting_rate"] == ["T4", "T5"]
    # a metric is either clearly moved by a planted effect or only in part, never both
    for metric, shown in ALSO_SHOWN_BY.items():
        assert not set(shown) & set(ALSO_AFFECTED.get(metric, ())), metric
