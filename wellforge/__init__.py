"""wellforge: generate and validate datasets in The Well's HDF5 layout."""

__version__ = "0.1.0"
