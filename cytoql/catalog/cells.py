"""Cell data: gene expression and obs columns by name, as per-cell values."""

from __future__ import annotations

from cytoql import plan as p
from cytoql.catalog.kinds import STRING
from cytoql.catalog.spec import PER_CELL, BuildError, Builtin, Param, register
from cytoql.resolve import unknown_column, unknown_gene
from cytoql.types import PerCellT

__all__: list[str] = []

CATEGORY = ("cell data", 10)


def _expr(args, ctx):
    gene = args["gene"]
    if gene.value not in ctx.schema.genes:
        raise BuildError.of(unknown_gene(ctx.schema, gene.value, gene.node.span), "gene")
    return p.GeneValues(gene.value), PerCellT("number", ctx.cells)


def _col(args, ctx):
    name = args["name"]
    schema = ctx.schema
    if name.value in schema.categories:
        return p.LabelCodes(name.value), PerCellT("label", ctx.cells, column=name.value)
    if name.value in schema.numeric:
        return p.NumericColumn(name.value), PerCellT("number", ctx.cells)
    raise BuildError.of(unknown_column(schema, name.value, name.node.span), "name")


register(Builtin(
    name="expr", category="cell data",
    params=(Param("gene", STRING, "a gene or marker of var_names"),),
    returns="a dimensionless number for each cell in context",
    doc="Expression of a gene (or marker intensity) from `adata.X`, as stored.",
    conventions=("values as stored in adata.X (no normalisation is applied)",),
    examples=('fraction(cells where expr("SPP1") > 2)',), combine=PER_CELL, build=_expr))

register(Builtin(
    name="col", category="cell data",
    params=(Param("name", STRING, "an obs column (any name, also with spaces)"),),
    returns="a number or a label for each cell in context",
    doc="An obs column by name; a bare name such as `total_counts` does the same for names "
        "that are identifiers.",
    conventions=("numeric columns are dimensionless numbers; categorical columns are labels",),
    examples=('mean(col("total_counts"))',), combine=PER_CELL, build=_col))
