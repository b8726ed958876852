// The Carbon page in the navigation: every carbon-aware run in a time range, totals, trends, tables, CSV.
import { Box, Button, HStack, Heading, Input, NativeSelect, Spinner, Stack, Table, Text } from "@chakra-ui/react";
import { type ReactNode, useEffect, useState } from "react";

import { type Fleet, type FleetParams, type Group, type TrendPoint, fleetPath, getJson, useJson } from "./api";
import { TimeChart } from "./Chart";
import { duration, grams, kwh, useTimes } from "./format";
import { type Column, compare, runColumns, toCsv } from "./fleet";
import { AirflowLink, carbonRunPath, dagPath } from "./links";
import { Empty, Failure, Fact, Facts, Loading, Section, StateBadge, StatusBadge } from "./parts";
import { Flags } from "./RunView";
import { useTimezone } from "./timezone";

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
const FILTER_PAUSE_MS = 300;

export const sinceOf = (range: string): string => new Date(Date.now() - RANGES[range].ms).toISOString();

/** ``value``, once it has stopped changing for ``ms`` (the filter box asks the API once the user pauses). */
const useSettled = <T,>(value: T, ms: number): T => {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
};

export const FleetPage = () => {
  const [range, setRange] = useState("7d");
  const [since, setSince] = useState(() => sinceOf("7d"));
  const [filter, setFilter] = useState("");
  const [status, setStatus] = useState("");
  const [sort, setSort] = useState<Sort>({ key: "run_after", descending: true });
  const tz = useTimezone();
  const q = useSettled(filter.trim(), FILTER_PAUSE_MS);
  // Everything but the page: a new filter, order or range starts again at the first page.
  const query: FleetParams = { since, q, status, sort: sort.key, order: sort.descending ? "desc" : "asc", tz };
  const queryKey = fleetPath(query);
  const [page, setPage] = useState({ queryKey, offset: 0 });
  const offset = page.queryKey === queryKey ? page.offset : 0;
  const { data, error, loading } = useJson<Fleet>(fleetPath({ ...query, offset, limit: PAGE }));
  const toggle = (key: string) => setSort((s) => ({ key, descending: s.key === key ? !s.descending : true }));
  return (
    <Stack gap={4} p={{ base: 2, md: 4 }} data-testid="carbon-fleet" data-loading={loading}>
      <HStack justify="space-between" wrap="wrap" gap={3}>
        <HStack gap={2}>
          <Heading size="xl">Carbon</Heading>
          {loading && data ? <Spinner size="sm" color="fg.muted" /> : null}
        </HStack>
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
        <FleetBody fleet={data} query={query} toggle={toggle}
          turnPage={(to) => setPage({ queryKey, offset: Math.max(0, to) })} />
      )}
    </Stack>
  );
};

const VISIBLE = ["run_after", "dag_id", "state", "status", "zones", "emitted_g", "avoided_g", "baseline_g", "energy_kwh", "waited_seconds", "reasons"];

type BodyProps = { fleet: Fleet; query: FleetParams; toggle: (key: string) => void; turnPage: (offset: number) => void };

const FleetBody = ({ fleet, query, toggle, turnPage }: BodyProps) => {
  const times = useTimes();
  const sum = fleet.totals;
  const points = fleet.trend.points;
  // The order the rows were sorted in by the API (not the one just clicked, until its answer arrives).
  const sort = { key: fleet.sort, descending: fleet.order === "desc" };
  if (!fleet.runs_in_range) return <Empty>No carbon-aware runs since {times.stamp(fleet.since)} in the DAGs you can read.</Empty>;
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
            {STATUSES.filter((s) => sum.by_status[s]).map((s) => `${sum.by_status[s]} ${s}`).join(", ")}
            {sum.forced ? `; ${sum.forced} deadline starts` : ""}{sum.degraded ? `; ${sum.degraded} degraded` : ""}
          </Text>
        </Fact>
      </Facts>
      {points.length ? (
        <Section title="Emitted vs had they started at release">
          <TimeChart label="Grams of CO₂e emitted per period, and what starting at release would have emitted" testId="trend-chart"
            unit="gCO₂e" formatValue={(v) => grams(v).replace(/ [kt]?gCO₂e$/, "")}
            lines={[
              { label: "Emitted", color: "green.solid", steps: points.map((p) => step(p, p.emitted_g)) },
              { label: "Had they started at release", color: "orange.solid", steps: points.map((p) => step(p, p.baseline_g)) },
            ]} />
        </Section>
      ) : null}
      <Section title="By DAG"><GroupTable testId="by-dag" label="DAG" groups={fleet.by_dag} link={dagPath} /></Section>
      <Section title="By zone"><GroupTable testId="by-zone" label="Zone" groups={fleet.by_zone} /></Section>
      <Section title="Runs" badge={<ExportButton query={query} matched={fleet.matched} since={fleet.since} />}>
        <RunsTable fleet={fleet} sort={sort} toggle={toggle} turnPage={turnPage} />
      </Section>
    </>
  );
};

const step = (point: TrendPoint, value: number) => ({ start: new Date(point.start), end: new Date(point.end), value });

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
  { key: "not_counted", label: "Failed / skipped", value: (g) => (g.by_status.failed ?? 0) + (g.by_status.skipped ?? 0) },
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

const RunsTable = ({ fleet, sort, toggle, turnPage }: { fleet: Fleet; sort: Sort; toggle: (key: string) => void; turnPage: (offset: number) => void }) => {
  const times = useTimes();
  const columns = runColumns(times).filter((c) => VISIBLE.includes(c.key));
  const numeric = new Set(["emitted_g", "avoided_g", "baseline_g", "energy_kwh", "waited_seconds"]);
  const first = fleet.runs.length ? fleet.offset + 1 : 0;
  const last = fleet.offset + fleet.runs.length;
  return (
    <Box overflowX="auto">
      <Table.Root size="sm" data-testid="runs-table">
        <Table.Header><Table.Row>{columns.map((c) => <SortHeader key={c.key} column={c} sort={sort} toggle={toggle} numeric={numeric.has(c.key)} />)}</Table.Row></Table.Header>
        <Table.Body>
          {fleet.runs.map((run) => (
            <Table.Row key={`${run.dag_id}/${run.run_id}`} data-dag={run.dag_id} data-status={run.status}>
              <Table.Cell whiteSpace="nowrap" data-testid="cell-released" data-value={run.run_after ?? ""}><AirflowLink to={carbonRunPath(run.dag_id, run.run_id)}>{times.stamp(run.run_after)}</AirflowLink></Table.Cell>
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
      <HStack mt={2} gap={2} fontSize="sm" color="fg.muted" data-testid="runs-pages">
        <Text>{first}–{last} of {fleet.matched.toLocaleString("en-US")}</Text>
        <Button size="xs" variant="outline" disabled={fleet.offset === 0} onClick={() => turnPage(fleet.offset - PAGE)}
          data-testid="page-previous">Previous</Button>
        <Button size="xs" variant="outline" disabled={last >= fleet.matched} onClick={() => turnPage(fleet.offset + PAGE)}
          data-testid="page-next">Next</Button>
      </HStack>
    </Box>
  );
};

/** Every run the table would list on any page (same filter, same order), fetched when asked for: the CSV holds
 * exactly what is shown, however many runs that is. */
const ExportButton = ({ query, matched, since }: { query: FleetParams; matched: number; since: string }) => {
  const times = useTimes();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Error | null>(null);
  const download = async () => {
    setBusy(true);
    setFailure(null);
    try {
      const all = await getJson<Fleet>(fleetPath(query));
      const columns = runColumns(times).filter((c) => VISIBLE.includes(c.key) || c.key === "run_id" || c.key === "flags");
      const url = URL.createObjectURL(new Blob([toCsv(all.runs, columns)], { type: "text/csv;charset=utf-8" }));
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.download = `carbon-runs-since-${since.slice(0, 10)}.csv`;
      anchor.click();
      URL.revokeObjectURL(url);
    } catch (error) {
      setFailure(error as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <HStack gap={2}>
      <Button size="xs" variant="outline" onClick={download} loading={busy} data-testid="export-csv">
        Export CSV ({matched.toLocaleString("en-US")} runs)
      </Button>
      {failure ? <Text fontSize="xs" color="fg.error">Export failed: {failure.message}</Text> : null}
    </HStack>
  );
};
