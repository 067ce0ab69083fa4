"""A C2SP tlog-witness: cosigns a log's checkpoints only when they extend the last one it cosigned (`lodeline witness`)."""
