"""The store's reading and writing functions, by subject."""
