"""Data for every dashboard view: pure functions of the tables and the global controls."""
