"""Diagnostics: structured errors with spans, rendered as text or JSON."""
