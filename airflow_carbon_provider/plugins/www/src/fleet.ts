// The dashboard's arithmetic, shared by the nav page, the widget and the CSV export: exactly what is shown.
import type { FleetRun } from "./api";
import { stamp } from "./format";

export type Totals = {
  runs: number;
  emitted_g: number;
  avoided_g: number;
  baseline_g: number;
  energy_kwh: number;
  byStatus: Record<string, number>;
  forced: number;
  degraded: number;
};

const add = (total: number, value: number | null): number => total + (value ?? 0);

/** Emitted grams count for every run; avoided only for successful accounted runs (``counted_avoided_g``). */
export const totals = (runs: FleetRun[]): Totals =>
  runs.reduce<Totals>(
    (sum, run) => ({
      runs: sum.runs + 1,
      emitted_g: add(sum.emitted_g, run.emitted_g),
      avoided_g: add(sum.avoided_g, run.counted_avoided_g),
      baseline_g: add(sum.baseline_g, run.counted_avoided_g === null ? null : run.baseline_g),
      energy_kwh: add(sum.energy_kwh, run.energy_kwh),
      byStatus: { ...sum.byStatus, [run.status]: (sum.byStatus[run.status] ?? 0) + 1 },
      forced: sum.forced + (run.forced ? 1 : 0),
      degraded: sum.degraded + (run.degraded ? 1 : 0),
    }),
    { runs: 0, emitted_g: 0, avoided_g: 0, baseline_g: 0, energy_kwh: 0, byStatus: {}, forced: 0, degraded: 0 },
  );

export type Group = Totals & { key: string };

export const groupBy = (runs: FleetRun[], keys: (run: FleetRun) => string[]): Group[] => {
  const groups = new Map<string, FleetRun[]>();
  for (const run of runs) {
    for (const key of keys(run).length ? keys(run) : ["(none)"]) {
      groups.set(key, [...(groups.get(key) ?? []), run]);
    }
  }
  return [...groups.entries()].map(([key, members]) => ({ key, ...totals(members) }));
};

export const matches = (run: FleetRun, text: string): boolean => {
  const needle = text.trim().toLowerCase();
  if (!needle) return true;
  return [run.dag_id, run.run_id, run.state ?? "", run.status, ...run.zones, ...run.reasons]
    .some((field) => field.toLowerCase().includes(needle));
};

export type Bucket = { start: Date; end: Date; emitted_g: number; baseline_g: number };

/** Emitted and at-release grams per hour (ranges up to two days) or per UTC day, over accounted runs. */
export const trend = (runs: FleetRun[]): Bucket[] => {
  const dated = runs.filter((run) => run.run_after && run.emitted_g !== null);
  if (!dated.length) return [];
  const times = dated.map((run) => new Date(run.run_after as string).getTime());
  const size = Math.max(...times) - Math.min(...times) <= 2 * 86_400_000 ? 3_600_000 : 86_400_000;
  const buckets = new Map<number, Bucket>();
  dated.forEach((run, index) => {
    const start = Math.floor(times[index] / size) * size;
    const bucket = buckets.get(start) ?? { start: new Date(start), end: new Date(start + size), emitted_g: 0, baseline_g: 0 };
    bucket.emitted_g += run.emitted_g ?? 0;
    bucket.baseline_g += run.baseline_g ?? run.emitted_g ?? 0;
    buckets.set(start, bucket);
  });
  return [...buckets.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
};

export type Column<T> = { key: string; label: string; value: (row: T) => string | number | null; csv?: (row: T) => string };

export const RUN_COLUMNS: Column<FleetRun>[] = [
  { key: "run_after", label: "Released", value: (r) => r.run_after, csv: (r) => r.run_after ?? "" },
  { key: "dag_id", label: "DAG", value: (r) => r.dag_id },
  { key: "run_id", label: "Run", value: (r) => r.run_id },
  { key: "state", label: "Run state", value: (r) => r.state },
  { key: "status", label: "Carbon status", value: (r) => r.status },
  { key: "zones", label: "Zones", value: (r) => r.zones.join(" ") },
  { key: "emitted_g", label: "Emitted (gCO₂e)", value: (r) => r.emitted_g },
  { key: "avoided_g", label: "Avoided, counted (gCO₂e)", value: (r) => r.counted_avoided_g },
  { key: "baseline_g", label: "At release (gCO₂e)", value: (r) => r.baseline_g },
  { key: "energy_kwh", label: "Energy (kWh)", value: (r) => r.energy_kwh },
  { key: "waited_seconds", label: "Waited (s)", value: (r) => r.waited_seconds },
  { key: "flags", label: "Flags", value: (r) => [r.forced ? "deadline start" : "", r.degraded ? "degraded" : ""].filter(Boolean).join(", ") },
  { key: "reasons", label: "Reasons", value: (r) => r.reasons.join("; ") },
];

export const compare = <T,>(column: Column<T>, descending: boolean) => (a: T, b: T): number => {
  const left = column.value(a);
  const right = column.value(b);
  if (left === right) return 0;
  if (left === null) return 1; // unknown values last, whichever the direction
  if (right === null) return -1;
  const order = typeof left === "number" && typeof right === "number" ? left - right : String(left).localeCompare(String(right));
  return descending ? -order : order;
};

const cell = (value: string | number | null): string => {
  const text = value === null ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** RFC 4180 CSV of ``rows`` in the order shown, one column per table column. */
export const toCsv = <T,>(rows: T[], columns: Column<T>[]): string =>
  [columns.map((c) => cell(c.label)).join(","), ...rows.map((row) => columns.map((c) => cell(c.csv ? c.csv(row) : c.value(row))).join(","))]
    .join("\r\n") + "\r\n";

export const fileStamp = (iso: string): string => stamp(iso).replaceAll(/[ :]/g, "").replace("UTC", "Z");
