"""Brand safety, pure: keyword lists (the versioned default and tenants' own), compiled once,
matched over texts by whole words after multilingual folding. No I/O beyond reading the
default list's data file."""
