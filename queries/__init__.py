"""Every word of SQL the app sends: one `<question>.sql` + `<question>.py` per question.

See queries/runner.py for the rules (named statements, `{presentation}`, bound
parameters, WarehouseError, caching).
"""

# The value of a text parameter that means "every feature" / "every reason" (the .sql
# files test `:feature = '*'`).
ALL = "*"
