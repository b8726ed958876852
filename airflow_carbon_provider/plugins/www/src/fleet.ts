// The columns of the Carbon page's runs table and of its CSV export (one definition for both), and the order
// of the per-DAG and per-zone tables (complete lists, sorted in the browser; the runs are sorted by the API).
import type { FleetRun } from "./api";
import type { Times } from "./format";

export type Column<T> = { key: string; label: string; value: (row: T) => string | number | null; csv?: (row: T) => string };

/** The runs table's columns; ``times`` writes the release time in the user's zone (ISO 8601 with its offset). */
export const runColumns = (times: Times): Column<FleetRun>[] => [
  { key: "run_after", label: "Released", value: (r) => r.run_after, csv: (r) => times.iso(r.run_after) },
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
