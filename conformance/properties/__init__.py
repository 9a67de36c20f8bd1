"""The properties: one module per SPEC.md area, each property citing its clauses."""
