"""BENCHMARKS.md section: Let's Wait Awhile's nightly job, reproduced, with the published numbers beside ours."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

ORDER = 30
REGIONS = {"de": "Germany", "gb": "Great Britain", "fr": "France"}
WINDOWS = (0.5, 1, 2, 4, 6, 8)
SEEDS = tuple(range(10))
ERROR = 0.05
# ../shared/reference/benchmarks.md section 1.1: savings (%) at +-2/4/6/8 h, computed on ../data with the paper's
# setup (30-min sampled data; 5 % error, 10 seeds) and, for the oracle, also at the files' own resolution.
PUBLISHED_ORACLE = {"de": (2.49, 3.66, 7.21, 13.46), "gb": (6.54, 8.36, 8.86, 10.16), "fr": (4.51, 5.87, 6.91, 7.58)}
PUBLISHED_ERROR = {"de": (1.10, 1.90, 5.16, 11.45), "gb": (4.50, 6.05, 6.49, 7.69), "fr": (2.80, 3.90, 4.82, 5.40)}
PUBLISHED_OWN = {"de": (2.35, 3.56, 7.33, 13.54), "gb": (6.41, 8.17, 8.68, 9.98), "fr": (4.51, 5.87, 6.91, 7.58)}
PUBLISHED_AT = (2, 4, 6, 8)


def run(task: tuple[Any, str, float]) -> dict[str, Any]:
    """Every policy for one region and window."""
    import lwa

    from airflow_carbon_provider.carbon.policy import Policy
    from airflow_carbon_provider.replay.engine import Scenario, replay_zone
    from airflow_carbon_provider.replay.results import summarize

    data, region, hours = task
    window = timedelta(hours=hours)
    poll = timedelta(minutes=30)
    out: dict[str, Any] = {}
    own = lwa.region_series(data, region, sampled=False)
    (oracle_own,) = summarize({region: own}, replay_zone(own, region, lwa.nightly_jobs(own, window),
                                                       Scenario(policies=(Policy.ORACLE,))))  # fmt: skip
    out["oracle-own"] = oracle_own.savings_pct
    truth = lwa.region_series(data, region)
    jobs = lwa.nightly_jobs(truth, window)
    out["jobs"] = len(jobs[0])
    for name, scenario in (
        ("oracle", Scenario(policies=(Policy.ORACLE,))),
        ("forecast-open", Scenario(policies=(Policy.FORECAST,), forecast_error=ERROR, seeds=SEEDS, open_loop=True)),
        ("forecast", Scenario(policies=(Policy.FORECAST,), forecast_error=ERROR, seeds=SEEDS, poll_interval=poll)),
        ("auto", Scenario(policies=(Policy.AUTO,), poll_interval=poll)),
    ):
        rows = summarize({region: truth}, replay_zone(truth, region, jobs, scenario))
        mean = next(s for s in rows if s.seed is None)
        out[name] = mean.savings_pct
        out[f"{name}-sd"] = mean.savings_sd_pct
    return out


def _published(table: dict[str, tuple[float, ...]], region: str, hours: float) -> str:
    return f"{table[region][PUBLISHED_AT.index(int(hours))]:.2f}" if hours in PUBLISHED_AT else "-"


def section(context: Any) -> str:
    title = "## Let's Wait Awhile: the nightly job"
    regions = [r for r in REGIONS if (context.data / f"{r}_2020.csv").is_file()]
    if not regions:
        return f"{title}\n\nSkipped: the Let's Wait Awhile files are absent from ../shared/data.\n"
    tasks = [(context.data, region, hours) for region in regions for hours in WINDOWS]
    results = dict(zip(((r, h) for _, r, h in tasks), context.map(run, tasks), strict=True))
    out = [
        title,
        "",
        "Wiesner et al. (Middleware '21), scenario I: a 30-minute job every day of 2020 at 01:00 that may start "
        "anywhere within +-w of 01:00 (`airflow-carbon replay --schedule '0 1 * * *' --duration 30m "
        "--shift-before w --shift-after w --warmup 0h`), savings against starting at 01:00 in %. The paper "
        "publishes this scenario only as a figure (`img/nightly_result.pdf`); the *published* columns are the "
        "numbers of its exact setup recomputed in ../shared/reference/benchmarks.md (30-min sampled data, 5 % "
        "error = Gaussian noise with sigma = 5 % of the mean, seeds 0-9, the job planned once at its window's "
        "start). Ours: the same noise model and seeds; *open* plans once at the window's start as the paper does; "
        "*closed* re-decides every 30 min as a deployed sensor; `auto` has no forecast at all. Mean over 10 seeds "
        "+- their standard deviation.",
        "",
    ]
    for region in regions:
        out += [
            f"### {REGIONS[region]}",
            "",
            "| +-w (h) | jobs | oracle, own resolution (published) | oracle, 30-min (published) "
            "| forecast 5 %, open (published) | forecast 5 %, closed | auto, closed |",
            "|---|---|---|---|---|---|---|",
        ]
        for hours in WINDOWS:
            r = results[region, hours]
            out.append(
                f"| {hours:g} | {r['jobs']} | {r['oracle-own']:.2f} ({_published(PUBLISHED_OWN, region, hours)}) "
                f"| {r['oracle']:.2f} ({_published(PUBLISHED_ORACLE, region, hours)}) "
                f"| {r['forecast-open']:.2f} +-{r['forecast-open-sd']:.2f} "
                f"({_published(PUBLISHED_ERROR, region, hours)}) "
                f"| {r['forecast']:.2f} +-{r['forecast-sd']:.2f} | {r['auto']:.2f} |"
            )
        out.append("")
    gaps = [
        abs(results[region, hours][name] - table[region][PUBLISHED_AT.index(hours)])
        for region in regions
        for hours in PUBLISHED_AT
        for name, table in (
            ("oracle-own", PUBLISHED_OWN),
            ("oracle", PUBLISHED_ORACLE),
            ("forecast-open", PUBLISHED_ERROR),
        )
    ]
    loop_gap = max(abs(r["forecast"] - r["forecast-open"]) for r in results.values())
    out += [
        f"Ours match the published numbers to within {max(gaps):.2f} percentage points. What differs, and why:",
        "- Jobs: the schedule fires on all 366 days of 2020; for windows over an hour the first night's window "
        "starts before the data and that job is left out (the paper's code skips it too, but divides by 365).",
        "- Oracle at own resolution: DE and GB have 15-min rows for (part of) the year, so a job may start on a "
        "quarter hour; the 30-min sampled series is a different series (the reference says the same).",
        "- 5 % error: noise from `default_rng(seed)` over the series' points in time order, sigma from the mean; the "
        "reference notes that the paper's own code draws differently and gets 0.2-0.3 pp more, the size of the "
        "spread over seeds.",
        "- Closed loop re-plans every 30 min on the same fixed noisy forecast, with the current half hour measured "
        f"instead of forecast: closed and open differ by at most {loop_gap:.2f} pp here. `auto` has no forecast and "
        "a window of at most +-8 h: it catches the daily and weekly part of the gain, little of the weather part.",
        "",
    ]
    return "\n".join(out)
