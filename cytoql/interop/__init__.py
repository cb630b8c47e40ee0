"""AnnData keys CytoQL reads and writes, and squidpy interop."""
