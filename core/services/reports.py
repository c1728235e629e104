"""The funder return and the evaluation's outcome measures, per site or over several, per period.

Every figure is an aggregate worked out in the database (``GROUP BY`` and conditional sums), so
the cost grows with the number of rows in the period, never with a Python loop over cases; the
one exception is the median, taken in Python from a narrow list of whole day counts. The same
statements run on SQLite and PostgreSQL and give identical figures: time differences are whole
seconds and whole UTC days on both.

Words used below:

- *The period* runs from ``period_from`` 00:00 to the end of ``period_to``, in the service's
  zone (``Settings.timezone``, Europe/London unless set).
  A date column (referral date, due date) is in the period when it falls on one of its days.
- *The day of a moment* (an allocation, a closure) is its UTC calendar date.
- *Sites*: one site, or every site where the actor may view reports
  (``policy.sites_where(actor, Action.REPORT_VIEW)``: service managers and admins).

The funder return:

- ``referrals``: cases whose referral date is in the period, and reopenings of closed cases in
  the period (each starts an episode of its own).
- ``allocations``: cases allocated in the period; ``median_days_referral_to_allocation``: the
  median over them of (day of allocation - referral date), in days.
- ``cases_worked``: cases allocated before the period ended and not closed before it began.
- ``engagement``: of the cases worked, those with at least one *direct* contact in the period
  (``core.enums.DIRECT_CONTACT_TYPES``: face to face, phone, video, home visit).
- ``contacts``: contacts in the period, every type but an unanswered attempt.
- ``case_months``: the time the cases worked were open (from allocation to closure) within the
  period, in months of 30.4375 days, to two decimal places; ``contacts_per_case_month``:
  ``contacts`` / that time (two decimal places).
- ``work_mix``: of ``contacts``, those marked disruption, support, behaviour change (a contact
  may be marked with several, so the shares may add up to more than 100%).
- ``interventions``: interventions started in the period (their start date), by category, by
  kind (the catalogue code) and by agency.
- ``panel_actions_on_time``: of the panel actions due in the period and not cancelled, those done
  with a completion date on or before the due date.
- ``panel_meetings_held`` / ``panel_meetings_cancelled``: the sites' panel meetings due to start
  in the period, marked held or cancelled; ``panel_attendance``: at the meetings held, of the
  people on their registers (``core.services.panel_outcomes``), those marked attended.
- ``alerts_acknowledged_within_4h``: of the disruption alerts raised in the period, those
  acknowledged no more than 4 hours (14,400 whole seconds) after being raised.
- ``closures``: cases closed in the period, by reason; the closures of earlier episodes of
  reopened cases (kept in the stage history) count too, each once.
- ``open_cases``: cases referred by the end of the period and not closed by then, by their stage
  at the end of the period (from the stage history) and their risk level then (the latest risk
  assessment by anyone before the end of the period; None when there was none).

The outcome measures, over the cases closed in the period:

- ``closed_cases`` and ``abuse`` count each closed episode: a case closed, reopened and closed
  again counts once in the period of each closure, with the abuse types recorded at that
  closure (kept on its closing stage change, as reopening clears the case's own).
- ``abuse``: for each abuse type, the closures with it recorded (yes or no) both at start and at
  closure; of those, the share using it at the start and at closure, and the change in per cent
  ((at closure - at start) / at start x 100; the evaluation's "-82%").
- ``idva_risk_reduced``: of the cases with at least two risk assessments by an IDVA
  (``assessor_role`` idva), those whose last IDVA level is lower than the first (standard <
  medium < high); the others are counted as unchanged or increased.
- MARAC appearances and police incidents *before*: on a day in the 182 days before the day of
  allocation; *after*: on a day in the 182 days after the day of closure. Only allocated cases
  count (``cases_allocated``). For cases closed less than 182 days ago the *after* window is not
  over yet, so a recent period under-counts it.

Shares are rounded to one decimal place, half up, from exact fractions.
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from core.clock import local_day_bounds
from core.enums import (
    DIRECT_CONTACT_TYPES,
    AbuseType,
    Agency,
    AttendanceStatus,
    ClosureReason,
    ContactType,
    PanelActionStatus,
    PanelMeetingStatus,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.errors import NotPermitted, ValidationFailed
from core.models import (
    Case,
    CaseStageChange,
    Contact,
    DisruptionAlert,
    Intervention,
    InterventionKind,
    MaracAppearance,
    PanelAction,
    PanelAttendance,
    PanelMeeting,
    PoliceIncident,
    RiskAssessment,
    Site,
)
from core.policy import Action, authorize, sites_where
from core.rules import check_real_day
from core.schemas.actor import Actor
from core.schemas.reports import (
    AbuseChange,
    FunderReturn,
    OutcomeMeasures,
    Report,
    ReportPage,
    ReportScope,
    ReportSite,
    Share,
    StageRiskCount,
)
from core.uow import UnitOfWork

SECONDS_PER_MONTH = 86_400 * Decimal("30.4375")  # 365.25 / 12 days
ACKNOWLEDGE_WITHIN_SECONDS = 4 * 3600
OUTCOME_WINDOW_DAYS = 182  # "six months" before allocation and after closure
_LEVEL_RANK = {RiskLevel.STANDARD: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}
_DIRECT = sorted(DIRECT_CONTACT_TYPES)
_ABUSE_KINDS = {
    AbuseType.PHYSICAL: "physical",
    AbuseType.SEXUAL: "sexual",
    AbuseType.HARASSMENT_STALKING: "harassment_stalking",
    AbuseType.JEALOUS_CONTROLLING: "jealous_controlling",
}


# --- Small exact helpers ----------------------------------------------------------------------


def percent(count: int, of: int) -> float | None:
    """``count`` / ``of`` as a percentage to one decimal place, half up; None when ``of`` is 0."""
    if of == 0:
        return None
    exact = Decimal(100 * count) / Decimal(of)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def share(count: int, of: int) -> Share:
    return Share(count=count, of=of, percent=percent(count, of))


def _two_places(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _period_bounds(period_from: date, period_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start, _ = local_day_bounds(period_from, zone)
    _, end = local_day_bounds(period_to, zone)
    return start.astimezone(UTC), end.astimezone(UTC)


class _Sql:
    """The few expressions that differ between SQLite and PostgreSQL, with the same results."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def seconds(self, moment: Any) -> ColumnElement[int]:
        """Whole seconds since 1970-01-01 UTC of a UTC timestamp column."""
        if self.postgres:
            return cast(func.extract("epoch", func.date_trunc("second", moment)), BigInteger)
        return cast(func.strftime("%s", moment), Integer)

    def day(self, value: Any, *, is_date: bool = False) -> ColumnElement[int]:
        """Days since 1970-01-01 of a date column, or of a timestamp's UTC date."""
        if self.postgres:
            if is_date:
                return cast(value - literal(date(1970, 1, 1)), Integer)
            return cast(func.floor(func.extract("epoch", value) / 86_400), Integer)
        return cast(func.strftime("%s", value), Integer) // 86_400

    def least(self, *values: Any) -> ColumnElement[int]:
        return func.least(*values) if self.postgres else func.min(*values)

    def greatest(self, *values: Any) -> ColumnElement[int]:
        return func.greatest(*values) if self.postgres else func.max(*values)


def _count(value: Any) -> int:
    return int(value or 0)


# --- Use cases --------------------------------------------------------------------------------


async def report_sites(*, uow: UnitOfWork, actor: Actor) -> list[ReportSite]:
    """The sites the actor may report on, by code."""
    site_ids = sites_where(actor, Action.REPORT_VIEW)
    if not site_ids:
        return []
    async with uow:
        rows = await uow.session.execute(
            select(Site.id, Site.code, Site.name).where(Site.id.in_(site_ids)).order_by(Site.code)
        )
        return [ReportSite(site_id=row.id, code=row.code, name=row.name) for row in rows]


async def build_report(
    *,
    uow: UnitOfWork,
    actor: Actor,
    site_id: int | None,
    period_from: date,
    period_to: date,
) -> Report:
    """The funder return and the outcome measures for one site (or, with ``site_id`` None,
    every site where the actor may view reports) over the period, from one snapshot."""
    async with uow:
        site_ids = _sites_for(actor, site_id)
        check_real_day(period_from, field="period_from")
        check_real_day(period_to, field="period_to")
        if period_to < period_from:
            raise ValidationFailed(field="period_to", rule="not_before_period_from")
        scope = await _scope(uow, site_ids, period_from, period_to)
        sql = _Sql(uow.session.get_bind().dialect.name)
        funder = await _funder_return(uow, sql, scope)
        outcomes = await _outcome_measures(uow, sql, scope)
    return Report(funder=funder, outcomes=outcomes)


async def report_page(
    *,
    uow: UnitOfWork,
    actor: Actor,
    site_id: int | None,
    period_from: date,
    period_to: date,
) -> ReportPage:
    """The sites the actor may report on, and ``build_report`` for the answers given."""
    report = await build_report(
        uow=uow, actor=actor, site_id=site_id, period_from=period_from, period_to=period_to
    )
    return ReportPage(sites=tuple(await report_sites(uow=uow, actor=actor)), report=report)


def _sites_for(actor: Actor, site_id: int | None) -> list[int]:
    if site_id is not None:
        authorize(actor, Action.REPORT_VIEW, site_id=site_id)
        return [site_id]
    site_ids = sites_where(actor, Action.REPORT_VIEW)
    if actor.is_system or not site_ids:
        raise NotPermitted(action=str(Action.REPORT_VIEW), actor=actor)
    return sorted(site_ids)


async def _scope(
    uow: UnitOfWork, site_ids: list[int], period_from: date, period_to: date
) -> ReportScope:
    rows = (
        await uow.session.execute(
            select(Site.id, Site.code).where(Site.id.in_(site_ids)).order_by(Site.code)
        )
    ).all()
    return ReportScope(
        site_ids=tuple(row.id for row in rows),
        site_codes=tuple(row.code for row in rows),
        period_from=period_from,
        period_to=period_to,
    )


# --- The funder return ------------------------------------------------------------------------


async def _funder_return(uow: UnitOfWork, sql: _Sql, scope: ReportScope) -> FunderReturn:
    session = uow.session
    sites = list(scope.site_ids)
    start, end = _period_bounds(scope.period_from, scope.period_to, uow.zone)
    start_s, end_s = int(start.timestamp()), int(end.timestamp())
    in_sites = Case.site_id.in_(sites)

    referred = Case.referral_date.between(scope.period_from, scope.period_to)
    allocated = and_(Case.allocated_at >= start, Case.allocated_at < end)
    worked = and_(Case.allocated_at < end, or_(Case.closed_at.is_(None), Case.closed_at >= start))
    direct_contact = exists().where(
        Contact.case_id == Case.id,
        Contact.occurred_at >= start,
        Contact.occurred_at < end,
        Contact.contact_type.in_(_DIRECT),
    )
    open_from = sql.greatest(sql.seconds(Case.allocated_at), start_s)
    open_until = sql.least(func.coalesce(sql.seconds(Case.closed_at), end_s), end_s)
    cases_row = (
        await session.execute(
            select(
                func.sum(case((referred, 1), else_=0)),
                func.sum(case((allocated, 1), else_=0)),
                func.sum(case((worked, 1), else_=0)),
                func.sum(case((and_(worked, direct_contact), 1), else_=0)),
                func.sum(case((and_(worked, open_until > open_from), open_until - open_from))),
            ).where(in_sites, or_(referred, worked))
        )
    ).one()
    referrals, allocations, cases_worked, engaged = (_count(v) for v in cases_row[:4])
    # Each reopening starts an episode: a referral of its own (core.services.cases.reopen_case).
    in_period = and_(CaseStageChange.changed_at >= start, CaseStageChange.changed_at < end)
    reopenings = await session.scalar(
        select(func.count())
        .select_from(CaseStageChange)
        .join(Case, Case.id == CaseStageChange.case_id)
        .where(in_sites, in_period, CaseStageChange.from_stage == Stage.CLOSED)
    )
    referrals += _count(reopenings)
    open_seconds = _count(cases_row[4])

    waits = list(
        await session.scalars(
            select(sql.day(Case.allocated_at) - sql.day(Case.referral_date, is_date=True)).where(
                in_sites, allocated
            )
        )
    )
    median_wait = float(statistics.median(waits)) if waits else None

    contact_row = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((Contact.is_disruption, 1), else_=0)),
                func.sum(case((Contact.is_support, 1), else_=0)),
                func.sum(case((Contact.is_behaviour_change, 1), else_=0)),
            )
            .join(Case, Case.id == Contact.case_id)
            .where(
                in_sites,
                Contact.occurred_at >= start,
                Contact.occurred_at < end,
                Contact.contact_type != ContactType.ATTEMPT_NO_ANSWER,
            )
        )
    ).one()
    contacts = _count(contact_row[0])
    work_mix = {
        WorkCategory.DISRUPTION: share(_count(contact_row[1]), contacts),
        WorkCategory.SUPPORT: share(_count(contact_row[2]), contacts),
        WorkCategory.BEHAVIOUR_CHANGE: share(_count(contact_row[3]), contacts),
    }
    case_months = Decimal(open_seconds) / SECONDS_PER_MONTH
    per_case_month = (
        _two_places(Decimal(contacts) * SECONDS_PER_MONTH / Decimal(open_seconds))
        if open_seconds
        else None
    )

    by_category: dict[WorkCategory, int] = {}
    by_kind: dict[str, int] = {}
    by_agency: dict[Agency, int] = {}
    intervention_rows = await session.execute(
        select(
            InterventionKind.code,
            InterventionKind.category,
            Intervention.agency,
            func.count(),
        )
        .join(Case, Case.id == Intervention.case_id)
        .join(InterventionKind, InterventionKind.id == Intervention.kind_id)
        .where(in_sites, Intervention.started_on.between(scope.period_from, scope.period_to))
        .group_by(InterventionKind.code, InterventionKind.category, Intervention.agency)
    )
    for code, category, agency, count in intervention_rows:
        by_kind[code] = by_kind.get(code, 0) + count
        by_category[WorkCategory(category)] = by_category.get(WorkCategory(category), 0) + count
        by_agency[Agency(agency)] = by_agency.get(Agency(agency), 0) + count

    on_time = and_(
        PanelAction.status == PanelActionStatus.DONE,
        PanelAction.completed_on.is_not(None),
        PanelAction.completed_on <= PanelAction.due_on,
    )
    actions_row = (
        await session.execute(
            select(func.count(), func.sum(case((on_time, 1), else_=0)))
            .join(Case, Case.id == PanelAction.case_id)
            .where(
                in_sites,
                PanelAction.due_on.between(scope.period_from, scope.period_to),
                PanelAction.status != PanelActionStatus.CANCELLED,
            )
        )
    ).one()

    meetings_row = (
        await session.execute(
            select(
                func.sum(case((PanelMeeting.status == PanelMeetingStatus.HELD, 1), else_=0)),
                func.sum(case((PanelMeeting.status == PanelMeetingStatus.CANCELLED, 1), else_=0)),
            ).where(
                PanelMeeting.site_id.in_(sites),
                PanelMeeting.starts_at >= start,
                PanelMeeting.starts_at < end,
            )
        )
    ).one()
    attended = PanelAttendance.status == AttendanceStatus.ATTENDED
    attendance_row = (
        await session.execute(
            select(func.count(), func.sum(case((attended, 1), else_=0)))
            .join(PanelMeeting, PanelMeeting.id == PanelAttendance.meeting_id)
            .where(
                PanelMeeting.site_id.in_(sites),
                PanelMeeting.status == PanelMeetingStatus.HELD,
                PanelMeeting.starts_at >= start,
                PanelMeeting.starts_at < end,
                PanelAttendance.status.in_([AttendanceStatus.ATTENDED, AttendanceStatus.ABSENT]),
            )
        )
    ).one()

    quick = and_(
        DisruptionAlert.acknowledged_at.is_not(None),
        sql.seconds(DisruptionAlert.acknowledged_at) - sql.seconds(DisruptionAlert.raised_at)
        <= ACKNOWLEDGE_WITHIN_SECONDS,
    )
    alerts_row = (
        await session.execute(
            select(func.count(), func.sum(case((quick, 1), else_=0)))
            .join(Case, Case.id == DisruptionAlert.case_id)
            .where(in_sites, DisruptionAlert.raised_at >= start, DisruptionAlert.raised_at < end)
        )
    ).one()

    closure_rows = await session.execute(
        select(Case.closure_reason, func.count())
        .where(in_sites, Case.closed_at >= start, Case.closed_at < end)
        .group_by(Case.closure_reason)
    )
    # The closures of earlier episodes of cases since reopened live in the stage history only.
    earlier_closure_rows = await session.execute(
        select(CaseStageChange.closure_reason, func.count())
        .join(Case, Case.id == CaseStageChange.case_id)
        .where(
            in_sites,
            in_period,
            CaseStageChange.to_stage == Stage.CLOSED,
            CaseStageChange.episode < Case.episode,
        )
        .group_by(CaseStageChange.closure_reason)
    )
    closures_by_reason = {reason: 0 for reason in ClosureReason}
    for reason, count in [*closure_rows, *earlier_closure_rows]:
        closures_by_reason[ClosureReason(reason or ClosureReason.OTHER)] += count

    open_by_stage_risk = await _open_cases_at(uow, sites, scope.period_to, end)

    return FunderReturn(
        scope=scope,
        referrals=referrals,
        allocations=allocations,
        median_days_referral_to_allocation=median_wait,
        cases_worked=cases_worked,
        engagement=share(engaged, cases_worked),
        contacts=contacts,
        case_months=_two_places(case_months),
        contacts_per_case_month=per_case_month,
        work_mix=work_mix,
        interventions=sum(by_kind.values()),
        interventions_by_category={c: by_category.get(c, 0) for c in WorkCategory},
        interventions_by_kind=dict(sorted(by_kind.items())),
        interventions_by_agency=dict(sorted(by_agency.items())),
        panel_actions_on_time=share(_count(actions_row[1]), _count(actions_row[0])),
        panel_meetings_held=_count(meetings_row[0]),
        panel_meetings_cancelled=_count(meetings_row[1]),
        panel_attendance=share(_count(attendance_row[1]), _count(attendance_row[0])),
        alerts_acknowledged_within_4h=share(_count(alerts_row[1]), _count(alerts_row[0])),
        closures=sum(closures_by_reason.values()),
        closures_by_reason=closures_by_reason,
        open_cases=sum(row.cases for row in open_by_stage_risk),
        open_cases_by_stage_and_risk=open_by_stage_risk,
    )


async def _open_cases_at(
    uow: UnitOfWork, sites: list[int], last_day: date, end: datetime
) -> tuple[StageRiskCount, ...]:
    """Cases open at ``end``, counted by their stage and latest risk level at that moment."""
    stage_then = (
        select(CaseStageChange.to_stage)
        .where(CaseStageChange.case_id == Case.id, CaseStageChange.changed_at < end)
        .order_by(CaseStageChange.changed_at.desc(), CaseStageChange.id.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    risk_then = (
        select(RiskAssessment.level)
        .where(RiskAssessment.case_id == Case.id, RiskAssessment.assessed_at < end)
        .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    open_then = (
        select(stage_then.label("stage"), risk_then.label("risk"))
        .where(
            Case.site_id.in_(sites),
            Case.referral_date <= last_day,
            or_(Case.closed_at.is_(None), Case.closed_at >= end),
        )
        .subquery()
    )
    rows = await uow.session.execute(
        select(open_then.c.stage, open_then.c.risk, func.count()).group_by(
            open_then.c.stage, open_then.c.risk
        )
    )
    counts: dict[tuple[Stage, RiskLevel | None], int] = {}
    for stage, risk, count in rows:
        # A case recorded after the period ended has no stage yet then: it was a referral.
        key = (
            Stage(stage) if stage and stage != Stage.CLOSED else Stage.REFERRED,
            RiskLevel(risk) if risk else None,
        )
        counts[key] = counts.get(key, 0) + count
    stage_order = list(Stage)
    risk_order = [None, *_LEVEL_RANK]
    return tuple(
        StageRiskCount(stage=stage, risk_level=risk, cases=count)
        for (stage, risk), count in sorted(
            counts.items(),
            key=lambda item: (stage_order.index(item[0][0]), risk_order.index(item[0][1])),
        )
    )


# --- The outcome measures ---------------------------------------------------------------------


def _level_rank(level: Any) -> ColumnElement[int]:
    return case({level.value: rank for level, rank in _LEVEL_RANK.items()}, value=level)


async def _outcome_measures(uow: UnitOfWork, sql: _Sql, scope: ReportScope) -> OutcomeMeasures:
    session = uow.session
    start, end = _period_bounds(scope.period_from, scope.period_to, uow.zone)
    closed_here = and_(
        Case.site_id.in_(list(scope.site_ids)), Case.closed_at >= start, Case.closed_at < end
    )

    # One row per closed episode: the case's current closure, and the closures of earlier
    # episodes of cases since reopened, with the abuse types kept on their closing stage change.
    current = select(
        *(getattr(Case, f"start_{kind}").label(f"start_{kind}") for kind in _ABUSE_KINDS.values()),
        *(
            getattr(Case, f"closure_{kind}").label(f"closure_{kind}")
            for kind in _ABUSE_KINDS.values()
        ),
    ).where(closed_here)
    earlier = (
        select(
            *(getattr(Case, f"start_{kind}") for kind in _ABUSE_KINDS.values()),
            *(getattr(CaseStageChange, f"closure_{kind}") for kind in _ABUSE_KINDS.values()),
        )
        .join(Case, Case.id == CaseStageChange.case_id)
        .where(
            Case.site_id.in_(list(scope.site_ids)),
            CaseStageChange.changed_at >= start,
            CaseStageChange.changed_at < end,
            CaseStageChange.to_stage == Stage.CLOSED,
            CaseStageChange.episode < Case.episode,
        )
    )
    closures = current.union_all(earlier).subquery()
    abuse_columns = []
    for kind in _ABUSE_KINDS.values():
        start_column, closure_column = closures.c[f"start_{kind}"], closures.c[f"closure_{kind}"]
        both_recorded = and_(start_column.is_not(None), closure_column.is_not(None))
        abuse_columns += [
            func.sum(case((both_recorded, 1), else_=0)),
            func.sum(case((and_(both_recorded, start_column.is_(True)), 1), else_=0)),
            func.sum(case((and_(both_recorded, closure_column.is_(True)), 1), else_=0)),
        ]
    abuse_row = (
        await session.execute(select(func.count(), *abuse_columns).select_from(closures))
    ).one()
    closed_cases = _count(abuse_row[0])
    abuse = []
    for i, abuse_type in enumerate(_ABUSE_KINDS):
        recorded, at_start, at_closure = (_count(v) for v in abuse_row[1 + 3 * i : 4 + 3 * i])
        change = percent(at_closure - at_start, at_start)
        abuse.append(
            AbuseChange(
                abuse_type=abuse_type,
                recorded=recorded,
                at_start=share(at_start, recorded),
                at_closure=share(at_closure, recorded),
                change_percent=change,
            )
        )

    # Each IDVA assessment of a closed case, numbered from the first and from the last.
    by_case = RiskAssessment.case_id
    numbered = (
        select(
            by_case.label("case_id"),
            _level_rank(RiskAssessment.level).label("rank"),
            func.row_number()
            .over(partition_by=by_case, order_by=(RiskAssessment.assessed_at, RiskAssessment.id))
            .label("from_first"),
            func.row_number()
            .over(
                partition_by=by_case,
                order_by=(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc()),
            )
            .label("from_last"),
        )
        .join(Case, Case.id == by_case)
        .where(closed_here, RiskAssessment.assessor_role == Role.IDVA)
        .subquery()
    )
    per_case = (
        select(
            func.max(case((numbered.c.from_first == 1, numbered.c.rank))).label("first"),
            func.max(case((numbered.c.from_last == 1, numbered.c.rank))).label("last"),
            func.count().label("assessments"),
        )
        .group_by(numbered.c.case_id)
        .subquery()
    )
    assessed = per_case.c.assessments >= 2
    risk_row = (
        await session.execute(
            select(
                func.sum(case((assessed, 1), else_=0)),
                func.sum(case((and_(assessed, per_case.c.last < per_case.c.first), 1), else_=0)),
                func.sum(case((and_(assessed, per_case.c.last == per_case.c.first), 1), else_=0)),
                func.sum(case((and_(assessed, per_case.c.last > per_case.c.first), 1), else_=0)),
            )
        )
    ).one()
    idva_assessed, reduced, unchanged, increased = (_count(v) for v in risk_row)

    cases_allocated = _count(
        await session.scalar(
            select(func.count()).where(closed_here, Case.allocated_at.is_not(None))
        )
    )
    marac_before, marac_after = await _before_and_after(
        uow, sql, closed_here, MaracAppearance, MaracAppearance.heard_on
    )
    incidents_before, incidents_after = await _before_and_after(
        uow, sql, closed_here, PoliceIncident, PoliceIncident.occurred_on
    )
    return OutcomeMeasures(
        scope=scope,
        closed_cases=closed_cases,
        abuse=tuple(abuse),
        idva_assessed=idva_assessed,
        idva_risk_reduced=share(reduced, idva_assessed),
        idva_risk_unchanged=unchanged,
        idva_risk_increased=increased,
        cases_allocated=cases_allocated,
        marac_before=marac_before,
        marac_after=marac_after,
        police_incidents_before=incidents_before,
        police_incidents_after=incidents_after,
    )


async def _before_and_after(
    uow: UnitOfWork,
    sql: _Sql,
    closed_here: Any,
    model: type[MaracAppearance] | type[PoliceIncident],
    on: Any,
) -> tuple[int, int]:
    """Events on a day in the 182 days before allocation, and in the 182 days after closure."""
    day = sql.day(on, is_date=True)
    allocated_day, closed_day = sql.day(Case.allocated_at), sql.day(Case.closed_at)
    before = and_(day >= allocated_day - OUTCOME_WINDOW_DAYS, day < allocated_day)
    after = and_(day > closed_day, day <= closed_day + OUTCOME_WINDOW_DAYS)
    row = (
        await uow.session.execute(
            select(func.sum(case((before, 1), else_=0)), func.sum(case((after, 1), else_=0)))
            .select_from(Case)
            .join(model, model.case_id == Case.id)
            .where(closed_here, Case.allocated_at.is_not(None))
        )
    ).one()
    return _count(row[0]), _count(row[1])
