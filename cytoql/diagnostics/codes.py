"""Every diagnostic code with its title, an explanation, a failing and a fixed query.

This table feeds ``cytoql explain CODE`` and the generated ``docs/diagnostics.md``.
Codes by stage: E01xx syntax, E02xx names, E03xx types and units, E04xx data (found
while running), W05xx warnings, E06xx resource limits (work and memory).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "Code", "explain"]


@dataclass(frozen=True)
class Code:
    """One diagnostic code: ``title`` is the short name, ``explanation`` the why."""

    code: str
    title: str
    explanation: str
    failing: str
    fixed: str


CODES: dict[str, Code] = {c.code: c for c in [
    Code("E0101", "unexpected token",
         "The parser met a word or symbol that cannot come at this place. The message "
         "lists, in words, what could have come instead.",
         "mean(distance(cells -> nearest cells)))", "mean(distance(cells -> nearest cells))"),
    Code("E0102", "unexpected character",
         "A character that is not part of CytoQL's syntax (e.g. `$`, `@`, `{`).",
         "count(cells where type == $PCT)", 'count(cells where type == "PCT")'),
    Code("E0103", "unexpected end of query",
         "The query stops in the middle of an expression, typically a missing `)` or "
         "a missing right-hand side.",
         "mean(distance(cells -> nearest cells)", "mean(distance(cells -> nearest cells))"),
    Code("E0104", "`=` used as a comparison",
         "`=` only binds names (`let`) and keyword arguments; comparisons use `==`.",
         'count(cells where type = "PCT")', 'count(cells where type == "PCT")'),
    Code("E0105", "operator from another language",
         "CytoQL spells boolean operators as words: `and`, `or`, `not` (not `&&`, `&`, "
         "`||`, `|`, `!`).",
         'count(cells where type == "PCT" && total_counts > 100)',
         'count(cells where type == "PCT" and total_counts > 100)'),
    Code("E0106", "unterminated string",
         "A string literal opened with a quote is not closed on the same line.",
         'count(cells where type == "PCT)', 'count(cells where type == "PCT")'),
    Code("E0107", "not exactly one query",
         "A query text is `let` bindings followed by exactly one result expression, "
         "which comes last.",
         'let P = cells where type == "PCT"', 'let P = cells where type == "PCT"\ncount(P)'),
    Code("E0108", "query too long",
         "A query text has at most 10,000 characters (`cytoql.parse.MAX_QUERY_CHARS`), "
         "which keeps every accepted text compiling in well under a second. Real queries "
         "are far shorter; a text this long is usually a generated list of values, which "
         "belongs in an obs column (docs/limits.md).",
         'count(cells where type in ("PCT", "PCT", ...))  # 3,000 times "PCT"',
         'count(cells where type == "PCT")'),
    Code("E0109", "expression nested too deeply",
         "Brackets and expression levels nest at most 64 deep (`cytoql.parse.MAX_DEPTH`); "
         "a `let` name counts with the depth of the expression it names. Each call, "
         "`not`, unary `-` and bracketed right-hand operand opens a level; flat chains "
         "such as `a or b or c`, `x + y + z` or `A where p where q` do not, whatever "
         "their length (docs/limits.md).",
         "mean(" + "(" * 65 + "total_counts" + ")" * 65 + ")", "mean(total_counts)"),
    Code("E0201", "unknown name",
         "A bare name is a `let` binding, `cells` (all cells), `type` (the cell-type "
         "label), or an obs column. Strings in quotes are cell types and categories.",
         "count(cells where type == PCT)", 'count(cells where type == "PCT")'),
    Code("E0202", "unknown function",
         "The called name is not a CytoQL built-in; the message lists close names. "
         "`docs/reference.md` lists all built-ins.",
         "Kinhom(cells)", "ripley_k(cells, r = 30 um)"),
    Code("E0203", "unknown category",
         "A string compared to a label column (such as the cell type) is not one of its "
         "values. Matching ignores nothing: use the spelling the data uses.",
         'count(cells where type == "Mesangial cell")',
         'count(cells where type == "Mesangial.cell")'),
    Code("E0204", "unknown column",
         "`col(\"name\")` or a bare name refers to an obs column that does not exist.",
         'mean(col("total_count"))', 'mean(col("total_counts"))'),
    Code("E0205", "unknown gene",
         "`expr(\"GENE\")` names a gene or marker that is not in `var_names`.",
         'mean(expr("SPP"))', 'mean(expr("SPP1"))'),
    Code("E0206", "ambiguous name",
         "A name means two things at once, e.g. a `let` binding with the name of an obs "
         "column, or `type` when obs also has a column called `type`.",
         'let fov = cells where type == "PCT"\ncount(fov)',
         'let P = cells where type == "PCT"\ncount(P)'),
    Code("E0207", "name bound twice",
         "Each `let` name is bound once per query.",
         'let P = cells where type == "PCT"\nlet P = cells\ncount(P)',
         'let P = cells where type == "PCT"\nlet A = cells\ncount(P)'),
    Code("E0208", "unknown unit",
         "Units: `um` (also `µm`), `mm`, `nm`, `um2`, `mm2`, `cells/mm2`, `deg`, `rad`.",
         "count(cells where distance_to_edge() < 30 microns)",
         "count(cells where distance_to_edge() < 30 um)"),
    Code("E0301", "type mismatch",
         "An argument or operand has the wrong kind of value, e.g. a per-cell value "
         "where a cell set is needed.",
         "count(distance(cells -> nearest cells))",
         "mean(distance(cells -> nearest cells))"),
    Code("E0302", "wrong arguments",
         "Too many or too few arguments, an unknown keyword, or one given twice.",
         "quantile(total_counts)", "quantile(total_counts, q = 0.5)"),
    Code("E0303", "missing unit",
         "A length (a radius, a distance threshold) was given as a bare number. Write "
         "the unit: the data's coordinates are converted to µm, so the number alone is "
         "ambiguous.",
         'count(cells where count(cells within 30) >= 1)',
         'count(cells where count(cells within 30 um) >= 1)'),
    Code("E0304", "unit mismatch",
         "Quantities of different dimensions cannot be added or compared: a length "
         "with a count, an area with a length.",
         "mean(distance(cells -> nearest cells) + count(cells within 10 um))",
         "mean(distance(cells -> nearest cells) + 10 um)"),
    Code("E0305", "value out of range",
         "A parameter is outside its valid range: a radius must be > 0, `k` >= 1, a "
         "quantile in [0, 1].",
         "count(cells where count(cells within 0 um) >= 1)",
         "count(cells where count(cells within 10 um) >= 1)"),
    Code("E0306", "per-cell values over different cells",
         "Per-cell values are combined, or used to filter, only over the same cells. "
         "Inside `A where ...` the values are for the cells of `A`.",
         'let P = cells where type == "PCT"\nlet M = cells where type == "macrophage"\n'
         "count(P where distance(M -> nearest P) < 20 um)",
         'let P = cells where type == "PCT"\nlet M = cells where type == "macrophage"\n'
         "count(P where distance(nearest M) < 20 um)"),
    Code("E0307", "cannot group by this",
         "`by` takes `fov`, `type` or a categorical obs column, and the result must be "
         "a summary (a number), not a cell set or per-cell values.",
         "distance(cells -> nearest cells) by type",
         "mean(distance(cells -> nearest cells)) by type"),
    Code("E0308", "power of a quantity with a unit",
         "A quantity with a unit is raised only to a constant exponent whose result has "
         "whole unit exponents (`area ^ 0.5` is a length, `length ^ 0.5` has no unit); "
         "the exponent is always dimensionless. Divide by a quantity of the same unit "
         "first to raise it to any power.",
         "mean(distance(cells -> nearest cells)) ^ 0.5",
         "(mean(distance(cells -> nearest cells)) / 1 um) ^ 0.5"),
    Code("E0401", "k larger than the set",
         "The k-th nearest cell does not exist: a field of view has fewer target cells "
         "than k.",
         'mean(distance(cells -> nearest cells where type == "NK", k = 3))',
         'mean(distance(cells -> nearest cells where type == "NK", k = 1))'),
    Code("E0402", "data cannot answer this",
         "The query is valid but the data lacks what it needs (e.g. no label column for "
         "`type`), or a kernel rejected its input.",
         'count(cells where type == "PCT")  # on data built with type_key=None',
         'count(cells where cell_type == "PCT")'),
    Code("W0501", "empty selection",
         "A cell set is empty in a field of view: counts, sums and densities over it are "
         "0 there, other summaries (mean, median, std, …) NaN, and distances to it NaN. "
         "The message says which.",
         'mean(distance(cells -> nearest cells where type == "NK"))  # FOV without NK',
         'mean(distance(cells -> nearest cells where type == "PCT"))'),
    Code("W0502", "undefined values skipped",
         "Some per-cell values are undefined (NaN), e.g. a local fraction around a cell "
         "without neighbours; summaries skip them and say how many. Also when too few "
         "values remain for the summary: std, cv and skewness need at least 2 (NaN for "
         "one cell).",
         "mean(local_fraction(cells where type == \"PCT\" within 5 um))",
         "mean(local_fraction(cells where type == \"PCT\" within 50 um))"),
    Code("W0503", "beyond the estimator's range",
         "An edge-corrected statistic is undefined at radii the window cannot support "
         "(translation: r at least the shorter side of the window; isotropic: half its "
         "diagonal); the values there are NaN, never extrapolated.",
         "ripley_k(cells, r = 0 um .. 2000 um by 500 um)",
         "ripley_k(cells, r = 0 um .. 200 um by 50 um)"),
    Code("W0504", "too few tiles",
         "A quadrat statistic needs at least two tiles in a field of view: tiles larger "
         "than the window (or, with `edge = drop`, no whole tile inside it) leave one or "
         "none, and the value is NaN there.",
         "quadrat_vmr(cells, size = 5 mm)",
         "quadrat_vmr(cells, size = 50 um)"),
    Code("W0505", "small expected counts",
         "Some tiles of a χ² quadrat test expect fewer than 5 cells, where the χ² "
         "distribution of the statistic is a poor approximation; use larger tiles (or "
         "read the p-value with care).",
         'quadrat_test(cells where type == "PCT", size = 10 um)',
         'quadrat_test(cells where type == "PCT", size = 100 um, edge = drop)'),
    Code("W0506", "zero-area window",
         "The window of a field of view has zero area: without a window in the metadata "
         "it is the bounding box of the FOV's cells, which is a point or a line when they "
         "all share a position or a coordinate. A density over it is NaN; give the "
         "windows (`windows=` or `uns[\"fov_windows\"]`).",
         "density(cells)  # every cell of a FOV at one position",
         "density(cells)  # with windows= giving the FOV rectangle"),
    Code("W0507", "cells in no group",
         "With `by` a label column, cells without a label in it (missing values) belong "
         "to no group: each group's value, and the pooled value per group, leave them "
         "out. The message says how many; label them (e.g. \"unknown\") to count them "
         "as a group.",
         "count(cells) by type  # some cells have no cell type",
         "count(cells) by fov"),
    Code("W0508", "large work or memory estimate",
         "The estimated work of the query (steps, mostly neighbour pairs) or its memory on "
         "one FOV is above a tenth of the limit (`max_work`, `max_memory`): it runs, but "
         "may take a while or much memory (docs/limits.md).",
         "mean(count(cells within 2 mm))  # on a large sample",
         "mean(count(cells within 50 um))"),
    Code("E0601", "too much work",
         "Before running, CytoQL estimates the work of a query from the sizes of its cell "
         "sets, the window areas and its radii (expected neighbour pairs = cells × density "
         "× π r², k × cells for k nearest, × simulations for envelopes). Above `max_work` "
         "(default 1e10 steps, about a minute of kernel time) it refuses; use a smaller "
         "radius or k, a subset of the cells, or raise the limit with `max_work=` "
         "(`--max-work`; None disables it).",
         "mean(shannon(cells within 1e9 um))  # on 200,000 cells: 4e10 pairs",
         "mean(shannon(cells within 50 um))"),
    Code("E0602", "too much memory",
         "The estimated memory of a query on one field of view (its per-cell values, k × "
         "cells neighbour lists, per-label count tables) is above `max_memory` (default: "
         "half of the machine's physical memory). Use a smaller k or a subset of the "
         "cells, or raise the limit with `max_memory=` (`--max-memory`; None disables it).",
         "mean(distance(cells -> nearest cells, k = 199999))  # on 200,000 cells: 1.5 TiB",
         "mean(distance(cells -> nearest cells, k = 10))"),
    Code("E0603", "out of memory",
         "An allocation failed while the query ran, although the estimate allowed it (the "
         "machine had less free memory, or the estimate was low). Use a smaller k or "
         "radius, a subset of the cells, or a machine with more memory.",
         "mean(distance(cells -> nearest cells, k = 5000))  # on a small machine",
         "mean(distance(cells -> nearest cells, k = 10))"),
]}


def explain(code: str) -> str:
    """The text of ``cytoql explain CODE``.

    Raises
    ------
    KeyError
        Unknown code; the message lists the codes.
    """
    entry = CODES.get(code.upper())
    if entry is None:
        raise KeyError(f"no diagnostic code {code!r}; codes: {', '.join(CODES)}")
    indent = "\n    "
    return (f"{entry.code}: {entry.title}\n\n{entry.explanation}\n\n"
            f"Failing query:\n    {entry.failing.replace(chr(10), indent)}\n\n"
            f"Fixed query:\n    {entry.fixed.replace(chr(10), indent)}\n")
