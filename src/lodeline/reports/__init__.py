"""Self-contained HTML reports (presentation layer: plotly figures with embedded assets, no CDN)."""
