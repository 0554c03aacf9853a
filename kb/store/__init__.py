"""The data store: data/'s record types (records), its files and their layout (datadir, layout, frontmatter,
summaries, sources), one writer at a time (lock), and the checks across records (validate)."""
