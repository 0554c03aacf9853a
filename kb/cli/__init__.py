"""The command line: the `kb` entry point (launch), its commands (commands), what both print (output,
terminal) and what both readers share (common)."""
