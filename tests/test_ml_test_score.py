"""The ML Test Score audit (docs/ml-test-score.md) is earned, not claimed: for each item
scored 1, a defect is planted in a fresh project and the generated test the audit names
must fail; unplanted, every one of those tests passes. The audit's own table is read
back and checked against this list, so neither can drift from the other."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import ROOT, render, run

PACKAGE = "src/customer_churn"


@dataclass(frozen=True)
class Plant:
    item: str  # the audit's id: D1..D7, M1..M7, I1..I7, Mo1..Mo7
    file: str  # in the generated project
    old: str  # exact text, replaced once
    new: str
    test: str  # the generated test that must then fail


PLANTS = [
    Plant("D1", f"{PACKAGE}/data/contract.py", "checks.append(pa.Check.le(spec.max))",
          "pass", "tests/test_contract.py::test_out_of_range_value_is_named"),
    Plant("D2", f"{PACKAGE}/model/importance.py",
          '"worthless": bool(mean <= max(2 * std, floor) + np.finfo(float).eps)',
          '"worthless": False',
          "tests/test_importance.py::test_a_planted_noise_column_is_found_worthless"),
    Plant("D3", f"{PACKAGE}/model/feature_cost.py",
          "widths[column] = _width(piece.transform(alone))", "widths[column] = 1",
          "tests/test_feature_cost.py::"
          "test_a_wide_category_costs_more_than_a_narrow_one_and_the_shares_add_up"),
    Plant("D4", f"{PACKAGE}/model/features.py",
          "excluded = {contract.target, contract.id_column, *personal_data}",
          "excluded = {contract.target, contract.id_column}",
          "tests/test_training.py::"
          "test_columns_declared_personal_or_sensitive_never_reach_the_model"),
    Plant("D5", f"{PACKAGE}/monitoring/prediction_log.py",
          "logged = [name for name in feature_names if name not in personal_data]",
          "logged = list(feature_names)",
          "tests/test_monitoring.py::test_personal_data_never_reaches_the_log_raw"),
    Plant("D7", f"{PACKAGE}/model/features.py",
          "parts += [values.dt.year, values.dt.month, values.dt.dayofweek]",
          "parts += [values.dt.year, values.dt.day, values.dt.dayofweek]",
          "tests/test_features.py::test_a_date_becomes_year_month_and_weekday_inside_the_pipeline"),
    Plant("M2", f"{PACKAGE}/monitoring/realised_value.py",
          "short = interval[1] < expected - margin", "short = False",
          "tests/test_monitoring.py::test_realised_value_is_held_to_the_promise"),
    Plant("M4", f"{PACKAGE}/model/staleness.py",
          "history = pd.concat(windows[:origin])", "history = pd.concat(windows)",
          "tests/test_staleness.py::test_a_drifting_world_shows_decay_and_a_limit_before_it_fails"),
    Plant("M5", f"{PACKAGE}/model/gate.py",
          "margin >= policy.baseline_margin,", "True,",
          "tests/test_gate.py::test_gate_blocks_model_that_barely_beats_baseline"),
    Plant("M6", f"{PACKAGE}/model/gate.py",
          "_better_by(policy, part.value, required) >= 0,", "True,",
          "tests/test_gate.py::test_a_slice_below_the_threshold_minus_its_tolerance_blocks"),
    Plant("M7", f"{PACKAGE}/model/gate.py",
          "low <= policy.max_fairness_gap,", "True,",
          "tests/test_fairness.py::"
          "test_a_gap_surely_too_wide_fails_the_gate_and_one_chance_explains_passes"),
    Plant("I1", f"{PACKAGE}/model/selection.py",
          "StratifiedKFold(settings.cv_folds, shuffle=True, random_state=seed)",
          "StratifiedKFold(settings.cv_folds, shuffle=True, random_state=None)",
          "tests/test_selection.py::test_the_same_seed_chooses_the_same_model_with_the_same_scores"),
    Plant("I4", f"{PACKAGE}/model/train.py",
          "new = gate.passed and identical_to is None", "new = identical_to is None",
          "tests/test_training.py::test_failed_gate_promotes_nothing_and_keeps_the_champion"),
    Plant("I5", f"{PACKAGE}/model/explain.py",
          "case[name] if keep else typical[name]", "typical[name] if keep else case[name]",
          "tests/test_explain.py::"
          "test_an_additive_score_is_split_exactly_and_an_unused_input_gets_nothing"),
    Plant("I6", f"{PACKAGE}/serving/rollout.py",
          "if _whole(seen + 1, share) > _whole(seen, share):", "if True:",
          "tests/test_api.py::test_a_promotion_reaches_traffic_in_steps_and_a_rollback_at_once"),
    Plant("I7", f"{PACKAGE}/registry/local_registry.py",
          '{"history": history[:-1]}', '{"history": history}',
          "tests/test_training.py::test_rollback_restores_the_previous_champion"),
    Plant("Mo2", f"{PACKAGE}/serving/api_schema.py",
          'constraints["le"] = spec.max', "pass",
          "tests/test_api.py::test_out_of_range_value_gets_field_level_422"),
    Plant("Mo3", f"{PACKAGE}/registry/artifacts.py",
          '    """Raise unless `copy` predicts exactly',
          '    copy = original\n    """Raise unless `copy` predicts exactly',
          "tests/test_export.py::test_a_copy_that_predicts_differently_is_refused"),
    Plant("Mo4", f"{PACKAGE}/monitoring/monitor.py",
          "if age_days is not None and age_days > limits.max_model_age_days:", "if False:",
          "tests/test_monitoring.py::test_a_stale_champion_asks_for_retraining"),
    Plant("Mo5", f"{PACKAGE}/model/stability.py",
          "bad = ~np.isfinite(scores)", "bad = np.zeros(scores.shape, dtype=bool)",
          "tests/test_api.py::test_a_score_that_is_not_a_number_is_refused_counted_and_not_logged"),
    Plant("Mo6", f"{PACKAGE}/model/footprint.py",
          "if ratio > WARNING_RATIO]", "if ratio > 10 * WARNING_RATIO]",
          "tests/test_footprint.py::"
          "test_figures_are_compared_in_the_direction_where_more_is_worse"),
    Plant("Mo7", f"{PACKAGE}/monitoring/monitor.py",
          "worse = value > gate.threshold if gate.metric in LOWER_IS_BETTER "
          "else value < gate.threshold", "worse = False",
          "tests/test_monitoring.py::test_feedback_joins_with_late_labels_and_slices"),
]  # fmt: skip

# The default (batch) project's items that the `both` project checks on its service: the
# same defects planted in batch scoring, whose files a default render shares unchanged.
BATCH = f"{PACKAGE}/serving/batch.py"
BATCH_PLANTS = [
    Plant("I6", f"{PACKAGE}/serving/batch_rollout.py",
          "if last == champion or is_older(champion, last):", "if True:",
          "tests/test_batch.py::test_a_new_champion_scores_in_shadow_before_it_decides"),
    Plant("Mo2", BATCH, "chunk = contract.check(chunk, with_target=False)", "chunk = chunk",
          "tests/test_batch.py::test_bad_scoring_data_writes_nothing"),
    Plant("Mo5", BATCH, "if unstable:  # the run stops", "if False:  # the run stops",
          "tests/test_batch.py::test_a_score_that_is_not_a_number_stops_the_run_and_writes_nothing"),
]  # fmt: skip

AUDIT = ROOT / "docs" / "ml-test-score.md"
ROW = re.compile(r"^\| (?P<item>(?:D|M|I|Mo)\d) \|.*\| (?P<points>1|0\.5|0) \|$")
BATCH_ROW = re.compile(r"^\| (?P<item>(?:D|M|I|Mo)\d) \(batch\) \|.*\| (?P<points>1|0\.5|0) \|$")


def _audit_rows(row: re.Pattern[str] = ROW) -> dict[str, tuple[float, str]]:
    rows = {}
    for line in AUDIT.read_text().splitlines():
        found = row.match(line)
        if found:
            rows[found["item"]] = (float(found["points"]), line)
    return rows


def test_the_audit_scores_each_item_once_and_every_section_six_or_more() -> None:
    rows = _audit_rows()
    sections: dict[str, list[float]] = {"D": [], "M": [], "I": [], "Mo": []}
    for item, (points, _) in rows.items():
        sections[item.rstrip("0123456789")].append(points)
    assert {name: len(points) for name, points in sections.items()} == dict.fromkeys(sections, 7)
    totals = {name: sum(points) for name, points in sections.items()}
    assert all(total >= 6 for total in totals.values()), totals
    text = AUDIT.read_text()
    for name, total in totals.items():
        assert f"| {name} | {total:g} |" in text, f"the summary does not say {name} = {total:g}"

    # The default project: the both project's rows, with its batch rows in their place.
    batch = {**rows, **_audit_rows(BATCH_ROW)}
    batch_totals = dict.fromkeys(sections, 0.0)
    for item, (points, _) in batch.items():
        batch_totals[item.rstrip("0123456789")] += points
    assert all(total >= 6 for total in batch_totals.values()), batch_totals
    named = ", ".join(
        f"{long} {batch_totals[name]:g}"
        for name, long in (
            ("D", "Data"),
            ("M", "Model"),
            ("I", "Infrastructure"),
            ("Mo", "Monitoring"),
        )
    )
    assert named in " ".join(text.split()), f"the default project's scores are not {named}"


def test_an_item_scores_1_only_when_a_planted_defect_fails_its_test() -> None:
    rows = _audit_rows()
    planted = {plant.item for plant in PLANTS}
    full = {item for item, (points, _) in rows.items() if points == 1}
    assert full == planted, f"scored 1 without a plant: {full - planted}; planted: {planted}"
    for plant in PLANTS:
        assert plant.test.split("::")[1] in rows[plant.item][1], (
            f"{plant.item}: the audit does not name {plant.test}"
        )
    batch_rows = _audit_rows(BATCH_ROW)
    batch_full = {item for item, (points, _) in batch_rows.items() if points == 1}
    assert batch_full == {plant.item for plant in BATCH_PLANTS}
    for plant in BATCH_PLANTS:
        assert plant.test.split("::")[1] in batch_rows[plant.item][1], plant.item


@pytest.mark.slow
def test_each_planted_defect_fails_the_test_the_audit_names(tmp_path: Path) -> None:
    project = render(tmp_path / "project", serving_mode="both", tracking="none")
    default = render(tmp_path / "default")  # files only: its batch plants run in `project`
    for plant in BATCH_PLANTS:
        assert (default / plant.file).read_text() == (project / plant.file).read_text(), (
            f"{plant.file} differs between the default and the both project"
        )
    run(["uv", "sync", "--quiet"], project)
    plants = PLANTS + BATCH_PLANTS
    tests = sorted({plant.test for plant in plants})
    clean = run(["uv", "run", "pytest", "-q", "-p", "no:cacheprovider", *tests], project,
                check=False, timeout=1800)  # fmt: skip
    assert clean.returncode == 0, clean.stdout[-3000:]
    survived = []
    for plant in plants:
        path = project / plant.file
        original = path.read_text()
        assert original.count(plant.old) == 1, f"{plant.item}: {plant.old!r} not in {plant.file}"
        path.write_text(original.replace(plant.old, plant.new))
        try:
            result = run(["uv", "run", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                          plant.test], project, check=False, timeout=900)  # fmt: skip
        finally:
            path.write_text(original)
        if result.returncode != 1:  # 1: tests failed (not an error collecting them)
            survived.append(f"{plant.item} ({plant.test}): exit {result.returncode}")
    assert survived == [], f"planted defects no test caught: {survived}"
