"""The run search grammar: filters and order-by clauses, parsed into a small syntax tree."""
