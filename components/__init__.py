"""Pure functions from data to Dash components and figures (rules: components/common.py).

IDs: components/ids.py. Page shell and routes: components/layout.py. One module per tab
(`access`, `entitlements`, `usage`, `unpaid`, `churn`) plus `customer` for /customer/<id>.
"""
