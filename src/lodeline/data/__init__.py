"""Bundled raw data, one parser per source (``sources/``), the dataset catalog and the build step."""
