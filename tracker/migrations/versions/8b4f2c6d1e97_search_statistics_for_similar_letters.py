"""search statistics: 10,000 common lexemes for the similar letters' word weights

On PostgreSQL, the similar letters on a letter's page weigh its words by how many letters
have them: the most common lexemes come from ANALYZE's statistics of letter_search.tsv,
the others are counted. With the default statistics target (100: 1,000 lexemes) a word in
a seventh of 100,000 letters was counted at each page view (a tenth of a second); the
column now keeps 10,000 (as new tables get them, tracker/services/pgsearch/schema.py), and
the statistics are gathered again now.

Revision ID: 8b4f2c6d1e97
Revises: 5a7c9e1d3b24
Create Date: 2026-12-06 18:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '8b4f2c6d1e97'
down_revision = '5a7c9e1d3b24'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from tracker.services.pgsearch import schema

    if schema.exists(bind):
        op.execute(schema.TSV_STATISTICS.format(table=schema.TABLE))
        op.execute(f"ANALYZE {schema.TABLE}")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from tracker.services.pgsearch import schema

    if schema.exists(bind):
        op.execute(f"ALTER TABLE {schema.TABLE} ALTER COLUMN tsv SET STATISTICS -1")
