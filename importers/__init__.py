"""Importers: one module per source. Each fetches with an injected httpx.Client and parses bytes or
JSON into plain records (importers.records). They never touch the catalogue: kb merges what they yield.
"""
