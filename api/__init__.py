"""The service's interfaces: the FastAPI app, the reviewer page and the ``xunqin`` CLI."""
