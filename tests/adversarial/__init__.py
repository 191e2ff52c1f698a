"""Hostile and unusual inputs against the command line, the store and the core.

Every case is generated on the fly (no network, no ``../shared``) and asserts the contract: a
one-line refusal naming the file and what to do, exit 2, nothing lost, no temporary file left,
previous outputs intact.
"""
