"""cytoql.agent: natural language to CytoQL, with a sandboxed CodeAct fallback."""
