"""search inside PostgreSQL: the letter_search table and its RUM or GIN index

Only on PostgreSQL (the Whoosh engine keeps its index in files). The table is the search
index, derived from reply_letter and rebuilt by `tracker reindex`; its definition lives
with the engine (tracker/services/pgsearch/schema.py), which also creates it in a database
made without migrations. `tracker init-db` fills it when letters exist and it is empty.

Revision ID: 7d2e91b0c4a8
Revises: a1c3e5f7b9d2
Create Date: 2026-12-06 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7d2e91b0c4a8'
down_revision = 'a1c3e5f7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from tracker.services.pgsearch import schema

    schema.create(bind)  # RUM when the rum extension can be had, else GIN


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from tracker.services.pgsearch import schema

    schema.drop(bind)
