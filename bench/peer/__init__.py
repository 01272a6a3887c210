"""The peer: the connections resource as a team would write it by hand, one row per
connection, for `make bench` to measure the service against (bench/README.md)."""
