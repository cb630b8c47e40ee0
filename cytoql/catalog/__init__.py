"""The function catalog: every built-in declared once (see :mod:`cytoql.catalog.spec`).

One module per taxonomy category: ``cells`` (cell data), ``distances``,
``neighbourhoods``, ``composition``, ``summaries``. Later categories (spatial
statistics, structure, graphs) add modules here and nothing elsewhere.
"""

from cytoql.catalog.spec import CATALOG, Builtin, Combine, Param, builtins, lookup

__all__ = ["CATALOG", "Builtin", "Combine", "Param", "builtins", "lookup"]
