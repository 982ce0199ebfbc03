"""covering indexes for team charts: the result row indexes by person (latest) and by cycle also hold the columns
the charts read, so that a team's rows come from the index alone

Revision ID: 9ca7574e3c08
Revises: 3e257c649936
Create Date: 2026-11-28 04:10:51.318418

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9ca7574e3c08'
down_revision = '3e257c649936'
branch_labels = None
depends_on = None

CHART_COLUMNS = ['competency_code', 'combined', 'target', 'gap']
INDEXES = {'ix_result_row_cycle_employee': ['cycle_id', 'employee_id'],
           'ix_result_row_employee_latest': ['employee_id', 'is_latest']}


def _recreate(extra):
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name='result_row')
        op.create_index(name, 'result_row', columns + extra, unique=False)


def upgrade():
    _recreate(CHART_COLUMNS)


def downgrade():
    _recreate([])
