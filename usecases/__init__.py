"""The use cases: one function per thing a user of xunqin does, each audited once.

Importing a sheet, adding or deleting a photo, closing, reopening or erasing a case,
searching by photo or by name, re-matching, deciding a candidate and refitting the model
live here, over ``records/`` (the store), ``indexes/`` (faces and the FAISS index) and
``matching/`` (scoring). The HTTP routes and the ``xunqin`` command line are thin
adapters over these functions; ``Services`` holds the parts they work with, built from
``Settings``.
"""
