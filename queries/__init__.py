"""Every word of SQL the app sends: one `<question>.sql` + `<question>.py` per question.

See queries/sqlfile.py for the rules (named statements, `{presentation}`, bound
parameters) and queries/runner.py for running them (WarehouseError, caching, retries).
"""

# The value of a text parameter that means "every feature" / "every reason" (the .sql
# files test `:feature = '*'`).
ALL = "*"
