"""person pickers: indexes on the employee names (with the status), so that the pickers find people by the first
characters of their name by an index seek, and by part of it from the index alone, at any size of bank

Revision ID: 5b1e7c0d2a91
Revises: ad5baaca9aa3
Create Date: 2026-11-28 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1e7c0d2a91'
down_revision = 'ad5baaca9aa3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_employee_name_zh', 'employee', ['name_zh', 'status'], unique=False)
    op.create_index('ix_employee_name_en', 'employee', ['name_en', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_employee_name_en', table_name='employee')
    op.drop_index('ix_employee_name_zh', table_name='employee')
