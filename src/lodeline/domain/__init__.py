"""Pure domain types: countries and groups, minerals and stages, units. No I/O beyond reading packaged data."""
