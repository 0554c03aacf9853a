"""Ingesting: running imports and kb sync (imports), the identity rules that merge records into works
(merging, merge_extras), and kb refresh (refresh). Importers fetch; this package decides what enters data/."""
