"""One golden text file per diagnostic situation (rendered against the kidney schema).

Regenerate after an intended change with ``CYTOQL_UPDATE_GOLDEN=1 pytest <this file>``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cytoql.api import compile
from cytoql.diagnostics.render import render_json, render_short
from cytoql.errors import QueryError

HERE = Path(__file__).parent / "golden"

CASES = {
    "syntax_unexpected_token": "mean(distance(T -> nearest E)))",
    "syntax_unexpected_end": 'mean(distance(cells -> nearest cells where type == "PCT")',
    "syntax_equals_for_comparison": 'count(cells where type = "PCT")',
    "syntax_double_ampersand": 'count(cells where type == "PCT" && total_counts > 100)',
    "syntax_unterminated_string": 'count(cells where type == "PCT)',
    "syntax_no_result": 'let P = cells where type == "PCT"',
    "unknown_cell_type_dots": 'let M = cells where type == "Mesangial cell"\ncount(M)',
    "unknown_cell_type_case": 'count(cells where type == "pct")',
    "unknown_cell_type_far": 'count(cells where type == "T cell")',
    "unknown_name_cell_type": "count(cells where type == PCT)",
    "unknown_name_let_typo": 'let Pod = cells where type == "Podocyte"\ncount(Pdo)',
    "unknown_function": "mean(nearest_dist(cells -> nearest cells))",
    "unknown_function_spatstat": "Kinhom(cells)",
    "spatstat_alias_missing_radius": "Kest(cells)",
    "log_of_a_length": "log(mean(distance(cells -> nearest cells)))",
    "sqrt_of_a_length": "sqrt(mean(distance(cells -> nearest cells)))",
    "sweep_error_at_one_radius": "sweep(mean(count(cells within r)), r = 0 um .. 30 um by 10 um)",
    "sweep_without_r": "sweep(mean(count(cells within 10 um)), r = 10 um .. 30 um by 10 um)",
    "syntax_python_power": "mean(distance(cells -> nearest cells) ** 2)",
    "power_of_a_length_to_a_half": "mean(distance(cells -> nearest cells)) ^ 0.5",
    "power_with_a_unit": "2 ^ mean(distance(cells -> nearest cells))",
    "power_not_a_constant": "mean(distance(cells -> nearest cells) ^ (total_counts / 100))",
    "maths_of_a_cell_set": 'sqrt(cells where type == "PCT")',
    "unknown_graph": "nhood_enrichment(cells, graph = delauney)",
    "enrichment_one_permutation": "nhood_enrichment(cells, nperm = 1)",
    "co_occurrence_one_radius": 'co_occurrence(cells where type == "PCT", cells, r = 30 um)',
    "auc_of_a_number": "auc(ripley_k(cells, r = 30 um))",
    "unknown_correction": "ripley_k(cells, r = 30 um, correction = translate_x)",
    "correction_not_a_word": "ripley_l(cells, r = 30 um, correction = 3)",
    "empty_radius_range": "ripley_l(cells, r = 100 um .. 10 um by 10 um)",
    "negative_radius_range": "ripley_l(cells, r = -10 um .. 50 um by 10 um)",
    "range_without_step": "ripley_l(cells, r = 0 um .. 50 um)",
    "range_zero_step": "ripley_l(cells, r = 0 um .. 50 um by 0 um)",
    "null_model_needs_range": "ripley_l(cells, r = 30 um, null = csr)",
    "shift_needs_cross_type": 'ripley_l(cells where type == "PCT", r = 0 um .. 50 um by 10 um, null = shift)',
    "clark_evans_unknown_correction": 'clark_evans(cells, correction = border)',
    "clark_evans_unknown_report": 'clark_evans(cells, report = q)',
    "f_grid_zero": 'f_function(cells, r = 0 um .. 50 um by 10 um, grid = 0 um)',
    "f_grid_without_unit": 'f_function(cells, r = 10 um, grid = 5)',
    "g_has_no_grid": 'g_function(cells, r = 10 um, grid = 5 um)',
    "g_null_needs_range": 'g_function(cells, r = 10 um, null = csr)',
    "g_null_shift_one_set": 'Gest(cells, r = 0 um .. 50 um by 10 um, null = shift)',
    "g_negative_radius": 'g_function(cells, r = -5 um .. 20 um by 5 um)',
    "pcf_at_zero": 'pcf(cells where type == "PCT", r = 0 um .. 50 um by 10 um)',
    "quadrat_unknown_edge": "quadrat_vmr(cells, size = 30 um, edge = trim)",
    "quadrat_size_without_unit": "quadrat_vmr(cells, size = 30)",
    "quadrat_size_zero": "quadrat_max(cells, size = 0 um)",
    "quadrat_size_range": "quadrat_morisita(cells, size = 10 um .. 50 um by 10 um)",
    "quadrat_missing_size": "quadrat_vmr(cells)",
    "quadrat_unknown_alternative": "quadrat_test(cells, size = 50 um, alternative = greater_than)",
    "infinite_radius": "mean(count(cells within 1e309 um))",
    "huge_integer_echoed_as_written": "mean(distance(cells -> nearest cells, k = 99999999999999999999))",
    "unknown_function_habit": "avg(total_counts)",
    "unknown_column": 'mean(col("total_count"))',
    "unknown_gene": 'fraction(cells where expr("SPP") > 2)',
    "unknown_unit_microns": "fraction(cells where distance_to_edge() < 30 microns)",
    "ambiguous_let_name": 'let fov = cells where type == "PCT"\ncount(fov)',
    "bound_twice": 'let P = cells\nlet P = cells\ncount(P)',
    "too_many_arguments": 'mean(total_counts, total_counts)',
    "unknown_keyword": "mean(distance(cells -> nearest cells, kk = 2))",
    "missing_argument": "quantile(total_counts)",
    "type_mismatch_set_for_values": 'mean(cells where type == "PCT")',
    "type_mismatch_string_for_set": 'count("PCT")',
    "missing_unit_radius": 'mean(count(cells within 30))',
    "missing_unit_comparison": 'fraction(cells where distance_to_edge() < 30)',
    "unit_mismatch_add": "mean(distance(cells -> nearest cells) + count(cells within 10 um))",
    "zero_radius": "mean(count(cells within 0 um))",
    "negative_k": "mean(distance(cells -> nearest cells, k = 0))",
    "quantile_out_of_range": "quantile(total_counts, q = 1.5)",
    "context_mismatch": ('let P = cells where type == "PCT"\n'
                         'let M = cells where type == "macrophage"\n'
                         'count(P where distance(M -> nearest P) < 20 um)'),
    "group_per_cell_values": "distance(cells -> nearest cells) by type",
    "syntax_non_ascii_name": "mean(größe)",
    "syntax_nested_too_deep": "count(cells where " + "not " * 62 + "total_counts > 1)",
    "syntax_brackets_too_deep": "mean(" + "(" * 65 + "total_counts" + ")" * 65 + ")",
    "syntax_let_too_deep": "let A0 = total_counts\n" + "\n".join(
        f"let A{i} = -A{i - 1}" for i in range(1, 65)) + "\nmean(A64)",
    "syntax_too_long": "count(cells where type in (" + '"PCT", ' * 3000 + '"PCT"))',
    "several_errors": 'let A = cells where type == "Podocyt"\n'
                      'mean(distance(A -> nearest cells where type == "mesangial cell", k = 0))',
    "autocorr_unknown_contiguity": 'morans_i(cells where type == "PCT", size = 50 um, contiguity = bishop)',
    "autocorr_zero_tile_size": "gearys_c(cells, size = 0 um)",
    "autocorr_distance_needs_radius": 'morans_i(expr("B2M"), weights = distance)',
    "autocorr_k_with_distance_band": 'gearys_c(expr("B2M"), weights = distance, radius = 30 um, k = 4)',
    "autocorr_radius_with_knn": 'mean(local_moran(expr("B2M"), radius = 30 um))',
    "autocorr_permutation_z": 'morans_i(expr("B2M"), test = permutation, report = z)',
    "autocorr_test_without_report": 'morans_i(cells, size = 50 um, test = permutation)',
    "autocorr_nperm_without_permutation": 'morans_i(expr("B2M"), nperm = 99)',
    "autocorr_nperm_zero": 'morans_i(cells, size = 50 um, test = permutation, nperm = 0)',
    "autocorr_cells_for_local": 'mean(gi_star(cells where type == "PCT"))',
    "autocorr_unknown_weights": 'morans_i(expr("B2M"), weights = queen)',
}


@pytest.fixture(scope="module")
def schema():
    import anndata as ad

    from cytoql.api import schema_of

    return schema_of(ad.read_h5ad(Path(__file__).parents[3] / "cytoql/datasets/data/cosmx_kidney.h5ad"))


def _render(schema, text) -> str:
    with pytest.raises(QueryError) as info:
        compile(text, schema)
    err = info.value
    short = "\n".join(render_short(d, err.source) for d in err.diagnostics)
    return f"{text}\n-----\n{err}\n-----\n{short}\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_diagnostic_matches_golden_text(schema, name):
    text = _render(schema, CASES[name])
    path = HERE / f"{name}.txt"
    if os.environ.get("CYTOQL_UPDATE_GOLDEN"):
        HERE.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_every_diagnostic_has_a_span_inside_the_text_and_a_json_form(schema):
    for text in CASES.values():
        with pytest.raises(QueryError) as info:
            compile(text, schema)
        for diag in info.value.diagnostics:
            assert 0 <= diag.span.start <= diag.span.end <= len(text)
            data = render_json(diag, info.value.source)
            assert json.loads(json.dumps(data))["code"] == diag.code


def test_several_independent_errors_are_reported_in_one_pass(schema):
    with pytest.raises(QueryError) as info:
        compile(CASES["several_errors"], schema)
    assert [d.code for d in info.value.diagnostics] == ["E0203", "E0203", "E0305"]


def test_misspelt_type_has_a_confident_machine_fix(schema):
    with pytest.raises(QueryError) as info:
        compile(CASES["unknown_cell_type_dots"], schema)
    (diag,) = info.value.diagnostics
    assert diag.suggestions[0].replacement == '"Mesangial.cell"' and diag.suggestions[0].confident
