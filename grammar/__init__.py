"""Data-only package: ``cytoql.lark`` is the single source of CytoQL's syntax."""
