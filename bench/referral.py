"""New referral benchmark: the web app's submit, server side, at national scale (issue 19).

Times what ``webapp.pages.referral.state.ReferralState.submit`` does on the server, by calling
the same functions in the same order: read the submitted form into ``ReferralCreate``
(``read_referral``, with the 24 DASH answers), ``referrals.check_duplicates``, then
``referrals.record_referral`` and the confirmation's rows (``confirmation``). Half the submits
are lookalikes of a person on record (typed another way): for those the matches' rows are built
(``match_rows``, ``elsewhere_rows``) and the referral is saved with ``save_despite_duplicates``,
as "Save anyway" does, and the time is the two steps together. Not timed: Reflex's own event
round trip (the websocket, state serialisation) and the browser.

The database is ``bench/case_intake.py``'s: 110,000 fictional cases over 40 sites, made and
migrated here when it holds no cases. Each run adds one case.

    .venv/bin/python bench/referral.py \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/da_bench_referral --runs 300

The target is p95 <= 200 ms. A test never asserts a time; this script says met or NOT met.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import sys
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.case_intake import (  # noqa: E402
    SITES,
    bench_manager,
    count_cases,
    ensure_database,
    percentiles_ms,
    seed_cases,
    target_line,
    time_each,
)
from core.bootstrap import bootstrap  # noqa: E402
from core.enums import Face  # noqa: E402
from core.rules import DASH_QUESTIONS  # noqa: E402
from core.schemas.actor import Actor  # noqa: E402
from core.schemas.referrals import DuplicateQuery  # noqa: E402
from core.services import referrals  # noqa: E402
from core.settings import Settings  # noqa: E402
from webapp.i18n import translator  # noqa: E402
from webapp.pages.referral.reading import Problems, read_referral  # noqa: E402
from webapp.pages.referral.rows import confirmation, elsewhere_rows, match_rows  # noqa: E402

P95_TARGET_MS = 200.0


def _form(name: str, born: date, rng: random.Random) -> dict[str, Any]:
    """The form as the browser submits it: every question answered, the DASH checklist here."""
    today = date.today()
    form: dict[str, Any] = {
        "referral_date_day": str(today.day),
        "referral_date_month": str(today.month),
        "referral_date_year": str(today.year),
        "source": "marac",
        "reason": "high_risk",
        "name": name,
        "date_of_birth_day": str(born.day),
        "date_of_birth_month": str(born.month),
        "date_of_birth_year": str(born.year),
        "gender": "Not stated",
        "address": "1 Example Street, Testville",
        "phone": "01632 960000",
        "languages": "English",
        "interpreter": "no",
        "referrer_agency": "Fictional Police",
        "referrer_contact": "Duty desk (fictional)",
        "abuse_physical": "yes",
        "abuse_sexual": "not_known",
        "abuse_harassment_stalking": "no",
        "abuse_jealous_controlling": "yes",
        "dash_mode": "checklist",
    }
    for question in DASH_QUESTIONS:
        form[f"dash_{question}"] = rng.choice(["yes", "no", "not_known"])
    return form


async def _submit(container: Any, actor: Actor, form: dict[str, Any]) -> bool:
    """The submit handler's server side; True when it found possible duplicates first."""
    words = translator("en_GB")
    problems: Problems = {}
    data = read_referral(form, ["1"], words, problems)
    assert data is not None, problems
    query = DuplicateQuery(
        site_id=data.site_id, name=data.subject.name, date_of_birth=data.subject.date_of_birth
    )
    found = await referrals.check_duplicates(uow=container.uow(), actor=actor, data=query)
    if found.count:  # shown, then "Save anyway"
        match_rows(found, words), elsewhere_rows(found, words)
        data = data.model_copy(update={"save_despite_duplicates": True})
    # A match appearing between the check and the save (PossibleDuplicates) stops the bench.
    saved = await referrals.record_referral(uow=container.uow(), actor=actor, data=data)
    confirmation(saved.case, actor, words)
    return bool(found.count)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    await ensure_database(args.database_url)
    container = bootstrap(Settings(database_url=args.database_url))
    rng = random.Random(args.seed)
    try:
        on_record = await seed_cases(container, rng)
        cases = await count_cases(container)
        actor = bench_manager(Face.WEB)

        async def submit(name: str, born: date) -> bool:
            return await _submit(container, actor, _form(name, born, rng))

        seconds, lookalikes = await time_each(rng, on_record, args.runs, submit)
    finally:
        await container.dispose()
    p50, p95, p99 = percentiles_ms(seconds)
    backend = make_url(args.database_url).get_backend_name()
    print(f"command: .venv/bin/python bench/referral.py {shlex.join(sys.argv[1:])}")
    print(f"backend: {backend}; cases before: {cases:,} over {SITES} sites")
    print(f"submits: {len(seconds)} ({lookalikes} found possible duplicates, saved anyway)")
    print(f"submit to confirmation p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms")
    print(target_line(p95, P95_TARGET_MS))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
