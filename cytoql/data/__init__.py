"""Reading spatial samples out of AnnData: positions, units, FOVs, windows, polygons."""
