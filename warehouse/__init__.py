"""The ACCURX warehouse: a dbt project plus the small command line that feeds and builds it.

`python -m warehouse demo|load|build` (see `warehouse.cli`). The dbt project lives beside
this package (`dbt_project.yml`, `models/`, `macros/`, `seeds/`); `warehouse/README.md`
documents the layers and the metric definitions for the data team.
"""
