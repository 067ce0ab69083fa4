"""The 2030 outlook (issue 15): will pipeline projects bring the alliance's single-supplier dependency below the
target? Pure computation on numpy arrays (``engine``), the cited delay and failure parameters (``parameters``),
and the summary of a run (``summary``). The store reads and the IEA demand projection live in
``services.outlook``. Method: docs/methods/outlook-2030.md.
"""
