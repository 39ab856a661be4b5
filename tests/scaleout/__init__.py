"""Scale-out and resilience tests: faults, reconnects, several workers on PostgreSQL and Redis."""
