// The Carbon page in the navigation: every carbon-aware run in a time range, totals, trends, tables, CSV.
import { Box, Button, HStack, Heading, Input, NativeSelect, Stack, Table, Text } from "@chakra-ui/react";
import { type ReactNode, useMemo, useState } from "react";

import { type Fleet, type FleetRun, fleetPath, useJson } from "./api";
import { TimeChart } from "./Chart";
import { duration, grams, kwh, stamp } from "./format";
import { type Column, type Group, RUN_COLUMNS, compare, groupBy, matches, toCsv, totals, trend } from "./fleet";
import { AirflowLink, carbonRunPath, dagPath } from "./links";
import { Empty, Failure, Fact, Facts, Loading, Section, StateBadge, StatusBadge } from "./parts";
import { Flags } from "./RunView";

const HOUR = 3_600_000;
export const RANGES: Record<string, { label: string; ms: number }> = {
  "24h": { label: "Last 24 hours", ms: 24 * HOUR },
  "7d": { label: "Last 7 days", ms: 7 * 24 * HOUR },
  "30d": { label: "Last 30 days", ms: 30 * 24 * HOUR },
  "90d": { label: "Last 90 days", ms: 90 * 24 * HOUR },
  "365d": { label: "Last 12 months", ms: 365 * 24 * HOUR },
  all: { label: "All time", ms: Date.now() },
};
const STATUSES = ["accounted", "waiting", "waited", "skipped", "failed", "nodepool"];
const PAGE = 50;

export const sinceOf = (range: string): string => new Date(Date.now() - RANGES[range].ms).toISOString();

export const FleetPage = () => {
  const [range, setRange] = useState("7d");
  const [since, setSince] = useState(() => sinceOf("7d"));
  const [filter, setFilter] = useState("");
  const [status, setStatus] = useState("");
  const { data, error, loading } = useJson<Fleet>(fleetPath(since));
  const runs = useMemo(
    () => (data?.runs ?? []).filter((run) => matches(run, filter) && (!status || run.status === status)),
    [data, filter, status],
  );
  return (
    <Stack gap={4} p={{ base: 2, md: 4 }} data-testid="carbon-fleet">
      <HStack justify="space-between" wrap="wrap" gap={3}>
        <Heading size="xl">Carbon</Heading>
        <HStack gap={2} wrap="wrap">
          <NativeSelect.Root size="sm" width="auto">
            <NativeSelect.Field aria-label="Time range" data-testid="range" value={range}
              onChange={(event) => { setRange(event.target.value); setSince(sinceOf(event.target.value)); }}>
              {Object.entries(RANGES).map(([key, { label }]) => <option key={key} value={key}>{label}</option>)}
            </NativeSelect.Field>
            <NativeSelect.Indicator />
          </NativeSelect.Root>
          <Input size="sm" width="16rem" placeholder="Filter: DAG, run, zone, status, reason" aria-label="Filter"
            data-testid="filter" value={filter} onChange={(event) => setFilter(event.target.value)} />
          <NativeSelect.Root size="sm" width="auto">
            <NativeSelect.Field aria-label="Carbon status" data-testid="status-filter" value={status}
              onChange={(event) => setStatus(event.target.value)}>
              <option value="">Every status</option>
              {STATUSES.map((name) => <option key={name} value={name}>{name}</option>)}
            </NativeSelect.Field>
            <NativeSelect.Indicator />
          </NativeSelect.Root>
        </HStack>
      </HStack>
      {error ? <Failure error={error} /> : !data ? (loading ? <Loading /> : null) : (
        <FleetBody runs={runs} all={data.runs.length} since={data.since} />
      )}
    </Stack>
  );
};

const VISIBLE = ["run_after", "dag_id", "state", "status", "zones", "emitted_g", "avoided_g", "baseline_g", "energy_kwh", "waited_seconds", "reasons"];
const SHOWN_COLUMNS = RUN_COLUMNS.filter((c) => VISIBLE.includes(c.key));
const CSV_COLUMNS = RUN_COLUMNS.filter((c) => VISIBLE.includes(c.key) || c.key === "run_id" || c.key === "flags");

const FleetBody = ({ runs, all, since }: { runs: FleetRun[]; all: number; since: string }) => {
  const runSort = useSort(RUN_COLUMNS, "run_after");
  const ordered = runSort.sorted(runs);
  const sum = totals(runs);
  const buckets = trend(runs);
  if (!all) return <Empty>No carbon-aware runs since {stamp(since)} in the DAGs you can read.</Empty>;
  return (
    <>
      <Facts>
        <Fact label="Emitted" testId="total-emitted">{grams(sum.emitted_g)}</Fact>
        <Fact label="Avoided by waiting (successful runs)" testId="total-avoided">
          <Text as="span" color={sum.avoided_g >= 0 ? "fg.success" : "fg.error"}>{grams(sum.avoided_g)}</Text>
          {sum.baseline_g ? <Text as="span" fontSize="sm" color="fg.muted"> of {grams(sum.baseline_g)} at release</Text> : null}
        </Fact>
        <Fact label="Energy" testId="total-energy">{kwh(sum.energy_kwh)}</Fact>
        <Fact label="Runs" testId="total-runs">
          {sum.runs}
          <Text fontSize="sm" color="fg.muted">
            {STATUSES.filter((s) => sum.byStatus[s]).map((s) => `${sum.byStatus[s]} ${s}`).join(", ")}
            {sum.forced ? `; ${sum.forced} deadline starts` : ""}{sum.degraded ? `; ${sum.degraded} degraded` : ""}
          </Text>
        </Fact>
      </Facts>
      {buckets.length ? (
        <Section title="Emitted vs had they started at release">
          <TimeChart label="Grams of CO₂e emitted per period, and what starting at release would have emitted" testId="trend-chart"
            unit="gCO₂e" formatValue={(v) => grams(v).replace(/ [kt]?gCO₂e$/, "")}
            lines={[
              { label: "Emitted", color: "green.solid", steps: buckets.map((b) => ({ start: b.start, end: b.end, value: b.emitted_g })) },
              { label: "Had they started at release", color: "orange.solid", steps: buckets.map((b) => ({ start: b.start, end: b.end, value: b.baseline_g })) },
            ]} />
        </Section>
      ) : null}
      <Section title="By DAG"><GroupTable testId="by-dag" label="DAG" groups={groupBy(runs, (r) => [r.dag_id])} link={dagPath} /></Section>
      <Section title="By zone"><GroupTable testId="by-zone" label="Zone" groups={groupBy(runs, (r) => r.zones)} /></Section>
      <Section title="Runs" badge={<ExportButton runs={ordered} since={since} />}>
        <RunsTable rows={ordered} sort={runSort.sort} toggle={runSort.toggle} />
      </Section>
    </>
  );
};

const useSort = <T,>(columns: Column<T>[], initial: string, descending = true) => {
  const [sort, setSort] = useState({ key: initial, descending });
  const toggle = (key: string) => setSort((s) => ({ key, descending: s.key === key ? !s.descending : true }));
  const column = columns.find((c) => c.key === sort.key) ?? columns[0];
  return { sort, toggle, sorted: (rows: T[]) => [...rows].sort(compare(column, sort.descending)) };
};

const SortHeader = ({ column, sort, toggle, numeric }: { column: { key: string; label: string }; sort: Sort; toggle: (key: string) => void; numeric?: boolean }) => (
  <Table.ColumnHeader textAlign={numeric ? "end" : "start"} aria-sort={sort.key === column.key ? (sort.descending ? "descending" : "ascending") : "none"}>
    <Button variant="plain" size="xs" px={0} fontWeight="semibold" onClick={() => toggle(column.key)} data-testid={`sort-${column.key}`}>
      {column.label}{sort.key === column.key ? (sort.descending ? " ↓" : " ↑") : ""}
    </Button>
  </Table.ColumnHeader>
);

const GROUP_COLUMNS: Column<Group>[] = [
  { key: "key", label: "Name", value: (g) => g.key },
  { key: "runs", label: "Runs", value: (g) => g.runs },
  { key: "emitted_g", label: "Emitted", value: (g) => g.emitted_g },
  { key: "avoided_g", label: "Avoided (counted)", value: (g) => g.avoided_g },
  { key: "energy_kwh", label: "Energy", value: (g) => g.energy_kwh },
  { key: "not_counted", label: "Failed / skipped", value: (g) => (g.byStatus.failed ?? 0) + (g.byStatus.skipped ?? 0) },
  { key: "forced", label: "Deadline starts", value: (g) => g.forced },
];

const GroupTable = ({ groups, label, link, testId }: { groups: Group[]; label: string; link?: (key: string) => string; testId: string }) => {
  const columns = GROUP_COLUMNS.map((c) => (c.key === "key" ? { ...c, label } : c));
  const { sort, toggle, sorted } = useSort(columns, "emitted_g");
  const show: Record<string, (g: Group) => ReactNode> = {
    key: (g) => (link ? <AirflowLink to={link(g.key)}>{g.key}</AirflowLink> : g.key),
    emitted_g: (g) => grams(g.emitted_g),
    avoided_g: (g) => grams(g.avoided_g),
    energy_kwh: (g) => kwh(g.energy_kwh),
  };
  return (
    <Box overflowX="auto">
      <Table.Root size="sm" data-testid={testId}>
        <Table.Header><Table.Row>{columns.map((c) => <SortHeader key={c.key} column={c} sort={sort} toggle={toggle} numeric={c.key !== "key"} />)}</Table.Row></Table.Header>
        <Table.Body>
          {sorted(groups).map((g) => (
            <Table.Row key={g.key} data-key={g.key}>
              {columns.map((c) => <Table.Cell key={c.key} textAlign={c.key === "key" ? "start" : "end"}>{show[c.key]?.(g) ?? c.value(g)}</Table.Cell>)}
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Box>
  );
};

type Sort = { key: string; descending: boolean };

const RunsTable = ({ rows, sort, toggle }: { rows: FleetRun[]; sort: Sort; toggle: (key: string) => void }) => {
  const [shown, setShown] = useState(PAGE);
  const columns = SHOWN_COLUMNS;
  const numeric = new Set(["emitted_g", "avoided_g", "baseline_g", "energy_kwh", "waited_seconds"]);
  return (
    <Box overflowX="auto">
      <Table.Root size="sm" data-testid="runs-table">
        <Table.Header><Table.Row>{columns.map((c) => <SortHeader key={c.key} column={c} sort={sort} toggle={toggle} numeric={numeric.has(c.key)} />)}</Table.Row></Table.Header>
        <Table.Body>
          {rows.slice(0, shown).map((run) => (
            <Table.Row key={`${run.dag_id}/${run.run_id}`} data-dag={run.dag_id} data-status={run.status}>
              <Table.Cell whiteSpace="nowrap"><AirflowLink to={carbonRunPath(run.dag_id, run.run_id)}>{stamp(run.run_after)}</AirflowLink></Table.Cell>
              <Table.Cell><AirflowLink to={dagPath(run.dag_id)}>{run.dag_id}</AirflowLink></Table.Cell>
              <Table.Cell><StateBadge state={run.state} /></Table.Cell>
              <Table.Cell><StatusBadge status={run.status} /></Table.Cell>
              <Table.Cell>{run.zones.join(", ") || "—"}</Table.Cell>
              <Table.Cell textAlign="end" data-testid="cell-emitted">{grams(run.emitted_g)}</Table.Cell>
              <Table.Cell textAlign="end">{run.counted_avoided_g === null && run.avoided_g !== null ? <Text as="span" color="fg.muted" title="not counted: the run did not succeed">({grams(run.avoided_g)})</Text> : grams(run.counted_avoided_g)}</Table.Cell>
              <Table.Cell textAlign="end">{grams(run.baseline_g)}</Table.Cell>
              <Table.Cell textAlign="end">{kwh(run.energy_kwh)}</Table.Cell>
              <Table.Cell textAlign="end">{duration(run.waited_seconds)}</Table.Cell>
              <Table.Cell maxW="28rem"><Flags forced={run.forced} degraded={run.degraded} /><Text fontSize="xs" color="fg.muted">{run.reasons.join("; ")}</Text></Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
      {rows.length > shown ? (
        <Button mt={2} size="sm" variant="outline" onClick={() => setShown(shown + PAGE * 4)}>Show more ({rows.length - shown} left)</Button>
      ) : null}
    </Box>
  );
};

/** The runs exactly as the table shows them (filter and order), every row, not just the page on screen. */
const ExportButton = ({ runs, since }: { runs: FleetRun[]; since: string }) => {
  const download = () => {
    const blob = new Blob([toCsv(runs, CSV_COLUMNS)], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const anchor = document.createElement("a");
    anchor.href = url;
    anchor.download = `carbon-runs-since-${since.slice(0, 10)}.csv`;
    anchor.click();
    URL.revokeObjectURL(url);
  };
  return <Button size="xs" variant="outline" onClick={download} data-testid="export-csv">Export CSV ({runs.length} runs)</Button>;
};
