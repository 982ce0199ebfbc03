"""Imports of files, all or nothing: each kind is `import_<kind>(data, filename, *, dry_run=False, actor=None,
**options) -> ImportResult` in its own module; errors name the line and column (ImportFailed)."""
from .common import ImportResult
from .courses import import_courses
from .employees import import_employees
from .org_units import import_org_units
from .ratings import import_ratings
from .sales import import_sales
from .tabular import ImportFailed, RowError
from .training import import_training

IMPORTERS = {
    "org_units": import_org_units,
    "employees": import_employees,
    "courses": import_courses,
    "training": import_training,
    "ratings": import_ratings,
    "sales": import_sales,
}

__all__ = ["IMPORTERS", "ImportFailed", "ImportResult", "RowError", "import_courses", "import_employees",
           "import_org_units", "import_ratings", "import_sales", "import_training"]
