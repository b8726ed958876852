// The Carbon JSON API (plugins/app.py), read with the UI session's cookie, and the shapes it returns.
import { useCallback, useEffect, useState } from "react";

export type SeriesPoint = { start: string; end: string; intensity: number; forecast: boolean };

export type WaitZone = {
  zone: string;
  signal: string | null;
  intensity_now: number | null;
  reading_start: string | null;
  reading_end: string | null;
  planned_start: string | null;
  run_now: boolean;
  planned_mean: number | null;
  mean_if_now: number | null;
  threshold_value: number | null;
  used: string | null;
  data: string | null;
  degraded: boolean;
  notes: string[];
  error: string | null;
  series: SeriesPoint[];
};

export type WaitState = {
  kind: string;
  status: "wait" | "start" | "deadline";
  decided_at: string;
  clock: { wall: string; speed: number };
  next_check: string;
  release: string;
  deadline: string;
  latest_start: string;
  deadline_kind: string;
  on_deadline: string;
  policy: string;
  threshold: number | string | null;
  threshold_high: number | string | null;
  duration_seconds: number;
  source: string;
  zone: string | null;
  best_zone: string | null;
  planned_start: string | null;
  why: string;
  zones: WaitZone[];
  faults: Record<string, string>;
};

export type WaitResult = {
  zone: string | null;
  release: string;
  start: string;
  deadline: string | null;
  waited_seconds: number;
  intensity_at_start: number | null;
  intensity_at_release: number | null;
  planned_mean: number | null;
  policy: string;
  used: string | null;
  source: string;
  deadline_forced: boolean;
  degraded: boolean;
  notes: string[];
  zones: Record<string, number | null>;
};

export type Report = {
  zone: string;
  source: string;
  release: string;
  deadline: string | null;
  start: string;
  end: string;
  waited_seconds: number;
  energy_kwh: number;
  power_w: number;
  pue: number;
  instance_type: string | null;
  emitted_g: number | null;
  baseline_g: number | null;
  avoided_g: number | null;
  intensity_mean: number | null;
  intensity_baseline_mean: number | null;
  intensity_at_start: number | null;
  intensity_at_release: number | null;
  deadline_forced: boolean;
  degraded: boolean;
  notes: string[];
  series: SeriesPoint[];
};

export type NodePoolChange = {
  nodepool: string;
  action: string;
  outcome: string;
  reason: string | null;
  diff: { path: string; before: unknown; after: unknown }[] | null;
  drift: string | null;
  mode: string | null;
  dry_run: boolean | null;
  grid_state: string | null;
  intensity: number | null;
};

export type TaskCarbon = {
  task_id: string;
  map_index: number;
  label: string;
  state: string | null;
  start_date: string | null;
  end_date: string | null;
  report: Report | null;
  wait: WaitResult | null;
  wait_state: WaitState | null;
  nodepool: NodePoolChange | null;
};

export type RunCarbon = {
  dag_id: string;
  run_id: string;
  state: string | null;
  run_after: string | null;
  tasks: TaskCarbon[];
  skipped: string[];
  totals: { emitted_g: number | null; baseline_g: number | null; avoided_g: number | null; energy_kwh: number | null };
};

export type FleetRun = {
  dag_id: string;
  run_id: string;
  state: string | null;
  status: string;
  run_after: string | null;
  zones: string[];
  sources: string[];
  emitted_g: number | null;
  baseline_g: number | null;
  avoided_g: number | null;
  counted_avoided_g: number | null;
  energy_kwh: number | null;
  waited_seconds: number | null;
  forced: boolean;
  degraded: boolean;
  reasons: string[];
  nodepool_changes: number;
};

export type Totals = {
  runs: number;
  emitted_g: number;
  avoided_g: number;
  baseline_g: number;
  energy_kwh: number;
  by_status: Record<string, number>;
  forced: number;
  degraded: number;
};

export type Group = Totals & { key: string };

export type TrendPoint = { start: string; end: string; emitted_g: number; baseline_g: number };

/** GET /carbon/api/fleet: aggregates over every run that passes the filter, and one page of those runs. */
export type Fleet = {
  since: string;
  until: string | null;
  tz: string;
  runs_in_range: number;
  matched: number;
  totals: Totals;
  by_dag: Group[];
  by_zone: Group[];
  trend: { step: "hour" | "day" | null; points: TrendPoint[] };
  sort: string;
  order: "asc" | "desc";
  offset: number;
  limit: number | null;
  runs: FleetRun[];
};

/** The fleet query: the time range, the filter, the order, the page (no limit: every match) and the user's zone. */
export type FleetParams = {
  since: string;
  q?: string;
  status?: string;
  sort?: string;
  order?: "asc" | "desc";
  offset?: number;
  limit?: number;
  tz?: string;
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A URL of the Carbon sub-app, under the Airflow UI's base path (the page's <base href>). */
export const carbonUrl = (path: string): string => new URL(`carbon/${path}`, document.baseURI).toString();

export const getJson = async <T,>(path: string): Promise<T> => {
  const response = await fetch(carbonUrl(path), { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body: unknown = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = (body as { detail?: unknown }).detail;
    throw new ApiError(response.status, typeof detail === "string" ? detail : `HTTP ${response.status}`);
  }
  return body as T;
};

export const runPath = (dagId: string, runId: string): string =>
  `api/runs/${encodeURIComponent(dagId)}/${encodeURIComponent(runId)}`;

export const fleetPath = (params: FleetParams): string => {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") query.set(name, String(value));
  }
  return `api/fleet?${query.toString()}`;
};

export type Loaded<T> = { data?: T; error?: ApiError | Error; loading: boolean; reload: () => void };

/** GET ``path`` now and again every ``refreshMs`` while ``keepRefreshing(data)`` says so (a live wait). */
export const useJson = <T,>(path: string, refreshMs = 0, keepRefreshing: (data: T) => boolean = () => false): Loaded<T> => {
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((value) => value + 1), []);

  useEffect(() => {
    let cancelled = false;
    setState((previous) => ({ ...previous, loading: true }));
    getJson<T>(path)
      .then((data) => !cancelled && setState({ data, loading: false }))
      .catch((error: Error) => !cancelled && setState({ error, loading: false }));
    return () => {
      cancelled = true;
    };
  }, [path, tick]);

  const live = state.data !== undefined && refreshMs > 0 && keepRefreshing(state.data);
  useEffect(() => {
    if (!live) return undefined;
    const timer = setTimeout(reload, refreshMs);
    return () => clearTimeout(timer);
  }, [live, refreshMs, reload, state.data]);

  return { ...state, reload };
};
