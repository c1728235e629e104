"""Case work from referral to closure (issue 19).

- ``sites.referral_roles``: roles that may record a referral besides the service manager and
  the panel coordinator.
- ``cases``: the perpetrator's further details, the referrer, the DASH answers, the episode
  number, the text of an "other" closure reason, and the folded name keys of the duplicate
  check with their index ``ix_cases_subject_match`` (surname key, date of birth). Existing
  names are folded here with a frozen copy of ``core.names``.
- ``case_stage_changes``: the reason, the day the move took effect, the episode and the text of
  an "other" closure reason.
- ``case_former_references``: references a case held before a transfer.
- ``risk_assessments.dash_answers``; ``marac_appearances`` and ``police_incidents``: a type and
  a short description.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:10:00.000000

"""
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
_NOT_A_LETTER_OR_DIGIT = re.compile(r"[^0-9a-z]+")


def _fold_name(name: str | None) -> str | None:
    if not name:
        return None
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = _NOT_A_LETTER_OR_DIGIT.sub(" ", plain).strip()
    return folded[:200] or None


def _backfill_name_keys() -> None:
    connection = op.get_bind()
    cases = sa.table(
        'cases',
        sa.column('id', sa.Integer()),
        sa.column('subject_name', sa.String()),
        sa.column('subject_name_key', sa.String()),
        sa.column('subject_surname_key', sa.String()),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(cases.c.id, cases.c.subject_name)
            .where(cases.c.id > last_id, cases.c.subject_name.is_not(None))
            .order_by(cases.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            folded = _fold_name(row.subject_name)
            connection.execute(
                cases.update()
                .where(cases.c.id == row.id)
                .values(
                    subject_name_key=folded,
                    subject_surname_key=folded.rsplit(" ", 1)[-1][:120] if folded else None,
                )
            )
        last_id = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral_roles', sa.JSON(), nullable=True))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_gender', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('subject_phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('subject_languages', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('subject_interpreter_needed', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('subject_name_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('subject_surname_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('dash_answers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('referrer_agency', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('referrer_contact', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('episode', sa.SmallInteger(), server_default=sa.text('1'), nullable=False)
        )
        batch_op.add_column(sa.Column('closure_reason_other', sa.Text(), nullable=True))
        batch_op.create_index(
            'ix_cases_subject_match', ['subject_surname_key', 'subject_date_of_birth'], unique=False
        )

    with op.batch_alter_table('case_stage_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closure_reason_other', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('effective_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('episode', sa.SmallInteger(), server_default=sa.text('1'), nullable=False)
        )

    op.create_table(
        'case_former_references',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=16), nullable=False),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'],
            name=op.f('fk_case_former_references_case_id_cases'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['site_id'], ['sites.id'], name=op.f('fk_case_former_references_site_id_sites')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_former_references')),
        sa.UniqueConstraint(
            'site_id', 'reference', name=op.f('uq_case_former_references_site_id_reference')
        ),
    )
    with op.batch_alter_table('case_former_references', schema=None) as batch_op:
        batch_op.create_index('ix_case_former_references_reference', ['reference'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_case_former_references_case_id'), ['case_id'], unique=False
        )

    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dash_answers', sa.JSON(), nullable=True))

    with op.batch_alter_table('marac_appearances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appearance_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('description', sa.String(length=500), nullable=True))

    with op.batch_alter_table('police_incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('description', sa.String(length=500), nullable=True))

    _backfill_name_keys()


def downgrade() -> None:
    with op.batch_alter_table('police_incidents', schema=None) as batch_op:
        batch_op.drop_column('description')
        batch_op.drop_column('incident_type')

    with op.batch_alter_table('marac_appearances', schema=None) as batch_op:
        batch_op.drop_column('description')
        batch_op.drop_column('appearance_type')

    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.drop_column('dash_answers')

    with op.batch_alter_table('case_former_references', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_former_references_case_id'))
        batch_op.drop_index('ix_case_former_references_reference')
    op.drop_table('case_former_references')

    with op.batch_alter_table('case_stage_changes', schema=None) as batch_op:
        batch_op.drop_column('episode')
        batch_op.drop_column('reason')
        batch_op.drop_column('effective_on')
        batch_op.drop_column('closure_reason_other')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_subject_match')
        batch_op.drop_column('closure_reason_other')
        batch_op.drop_column('episode')
        batch_op.drop_column('referrer_contact')
        batch_op.drop_column('referrer_agency')
        batch_op.drop_column('dash_answers')
        batch_op.drop_column('subject_surname_key')
        batch_op.drop_column('subject_name_key')
        batch_op.drop_column('subject_interpreter_needed')
        batch_op.drop_column('subject_languages')
        batch_op.drop_column('subject_phone')
        batch_op.drop_column('subject_gender')

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('referral_roles')
