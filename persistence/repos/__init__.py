"""Repositories, one module per aggregate: the only code that reads and writes rows.

Keyword-only, one concept per function. Call them through their module (`roster.add_participants`).
"""
