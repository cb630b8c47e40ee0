"""The schema summary of a sample: what ``cytoql info`` prints and the agent reads."""

from __future__ import annotations

import numpy as np

from cytoql.interop import keys

__all__ = ["describe"]


def describe(sample, max_types: int = 40) -> str:
    """A plain-text summary of ``sample``: FOVs, windows, cell types, unit, genes.

    Parameters
    ----------
    sample : Sample
    max_types : int, default 40
        Cell types listed before the rest are counted as "… N more".

    Returns
    -------
    str
        Lines of plain text (no colour, no box drawing) so that people and language
        models read the same thing.
    """
    adata = sample._adata
    lines = [f"{sample.n_cells:,} cells × {len(sample.genes):,} genes"]
    origin = (f"uns['{keys.SPATIAL_UNIT}'] = {adata.uns[keys.SPATIAL_UNIT]!r}"
              if keys.SPATIAL_UNIT in adata.uns else "not given")
    lines.append(f"unit: {sample.scale.describe()}; positions reported in µm ({origin})")

    lines.append(f"fields of view: {len(sample.fovs)}"
                 + ("" if sample.fovs and sample.fovs[0].name != keys.SINGLE_FOV
                    else " (no obs['fov'] column: all cells form one FOV)"))
    width = max((len(f.name) for f in sample.fovs), default=0)
    for fov in sample.fovs:
        density = fov.n_cells / fov.window.area * 1e6 if fov.window.area > 0 else float("nan")
        lines.append(f"  {fov.name:<{width}}  {fov.n_cells:>8,} cells  {fov.window.describe()}"
                     f"  {density:,.0f} cells/mm²")

    if sample.type_key is None:
        lines.append("cell types: none (no label column)")
    else:
        counts = np.bincount(sample.type_codes[sample.type_codes >= 0],
                             minlength=len(sample.cell_types))
        order = np.argsort(-counts, kind="stable")
        missing = int((sample.type_codes < 0).sum())
        lines.append(f"cell types: {len(sample.cell_types)} in obs[{sample.type_key!r}]"
                     + (f" ({missing:,} cells unlabelled)" if missing else ""))
        per_fov = [np.bincount(sample.type_codes[f.index][sample.type_codes[f.index] >= 0],
                               minlength=len(sample.cell_types)) for f in sample.fovs]
        name_w = max((len(sample.cell_types[i]) for i in order[:max_types]), default=0)
        for i in order[:max_types]:
            split = ""
            if len(sample.fovs) > 1:
                split = "  (" + ", ".join(f"{f.name}: {c[i]:,}" for f, c in zip(sample.fovs, per_fov)) + ")"
            lines.append(f"  {sample.cell_types[i]!r:<{name_w + 2}} {counts[i]:>8,}{split}")
        if len(order) > max_types:
            lines.append(f"  … {len(order) - max_types} more")

    other = [c for c in sample.columns if c not in (sample.type_key, keys.FOV, sample.sample_key)]
    if other:
        kinds = []
        for c in other:
            if c in sample.numeric_columns:
                kinds.append(f"{c} (numeric)")
            elif c in sample.categorical_columns:
                n_cat = adata.obs[c].nunique()
                kinds.append(f"{c} (categorical, {n_cat:,} values)")
            else:
                kinds.append(f"{c} ({adata.obs[c].dtype})")
        lines.append("other obs columns: " + ", ".join(kinds))
    genes = sample.genes
    shown = ", ".join(genes[:30]) + (f", … {len(genes) - 30} more" if len(genes) > 30 else "")
    lines.append(f"genes: {len(genes):,}" + (f": {shown}" if genes else ""))
    if sample.layers:
        lines.append("layers: " + ", ".join(sample.layers))
    if sample.has_polygons:
        n_out = int((~np.isnan(sample.polygon_array).any(axis=2)).any(axis=1).sum())
        lines.append(f"cell outlines: {n_out:,} of {sample.n_cells:,} cells (obsm['{keys.POLYGONS}'])")
    else:
        lines.append("cell outlines: none")
    if sample.assumptions:
        lines.append("assumptions:")
        lines.extend(f"  - {a}" for a in sample.assumptions)
    return "\n".join(lines)
