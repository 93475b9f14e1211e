"""The bayesgen command line."""
