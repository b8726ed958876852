// The live wait: exactly what the trigger decided at its last poll (XCom carbon_wait_state), explained.
import { Alert, Badge, Box, HStack, Table, Text } from "@chakra-ui/react";
import { useEffect, useState } from "react";

import type { WaitState, WaitZone } from "./api";
import { TimeChart, toSteps } from "./Chart";
import { INTENSITY_UNIT, duration, intensity, percentChange, useTimes } from "./format";
import { Fact, Facts, Notes } from "./parts";

const ON_DEADLINE: Record<string, string> = {
  run: "the job starts anyway",
  skip: "the job is skipped",
  fail: "the task fails",
};

/** The grid clock's "now": the poll's time moved on by the real time since, at the replay's speed. */
export const useGridNow = (state: WaitState): Date => {
  const compute = () => {
    const wallElapsed = Math.max(0, Date.now() - new Date(state.clock.wall).getTime());
    return new Date(new Date(state.decided_at).getTime() + wallElapsed * (state.clock.speed || 1));
  };
  const [now, setNow] = useState(compute);
  useEffect(() => {
    setNow(compute());
    const timer = setInterval(() => setNow(compute()), 5000);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.decided_at, state.clock.wall, state.clock.speed]);
  return now;
};

const secondsBetween = (from: Date, to: string | null): number | null =>
  to ? (new Date(to).getTime() - from.getTime()) / 1000 : null;

export const WaitPanel = ({ state, live }: { state: WaitState; live: boolean }) => {
  const now = useGridNow(state);
  const { when } = useTimes();
  const best = state.zones.find((zone) => zone.zone === state.best_zone) ?? state.zones[0];
  const untilStart = secondsBetween(now, state.planned_start);
  const threshold = state.threshold === null ? null : typeof state.threshold === "number" ? `${state.threshold} ${INTENSITY_UNIT}` : `${state.threshold} percentile`;
  return (
    <Box display="flex" flexDirection="column" gap={3} data-testid="live-wait">
      <Alert.Root status={state.status === "deadline" ? "warning" : "info"}>
        <Alert.Indicator />
        <Alert.Content>
          <Alert.Title data-testid="wait-why">{state.why}</Alert.Title>
          <Alert.Description fontSize="xs">
            Trigger's decision as of {when(state.decided_at, now)} (grid clock; unchanged by later polls until the data
            changes). Next check {when(state.next_check, now)}.{live ? " This view refreshes on its own." : ""}
          </Alert.Description>
        </Alert.Content>
      </Alert.Root>
      <Facts>
        <Fact label="Planned start" testId="planned-start" value={state.planned_start ?? ""}>
          {when(state.planned_start, now)}
          {untilStart !== null && untilStart > 0 ? <Text as="span" fontSize="sm" color="fg.muted"> in {duration(untilStart)}</Text> : null}
        </Fact>
        <Fact label={`Latest start (deadline ${state.deadline_kind === "finish" ? "to finish" : "to start"} ${when(state.deadline, now)})`} testId="latest-start" value={state.latest_start}>
          {when(state.latest_start, now)}
        </Fact>
        <Fact label="At the deadline" testId="on-deadline">
          {ON_DEADLINE[state.on_deadline] ?? state.on_deadline} <Text as="span" fontSize="sm" color="fg.muted">(on_deadline={state.on_deadline})</Text>
        </Fact>
        <Fact label="Plan in force" testId="plan-in-force">
          {state.policy}{threshold ? `, threshold ${threshold}` : ""}
          <Text fontSize="sm" color="fg.muted">job of {duration(state.duration_seconds)}, released {when(state.release, now)}</Text>
        </Fact>
      </Facts>
      <ZoneTable state={state} now={now} />
      {best ? <WaitChart state={state} zone={best} now={now} /> : null}
      {state.zones.map((zone) => <Notes key={zone.zone} notes={[...zone.notes, ...(zone.error ? [zone.error] : [])]} title={`Notes for ${zone.zone}`} />)}
    </Box>
  );
};

const ZoneTable = ({ state, now }: { state: WaitState; now: Date }) => {
  const { when } = useTimes();
  return (
    <Box overflowX="auto">
      <Table.Root size="sm" data-testid="wait-zones">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeader>Zone</Table.ColumnHeader>
            <Table.ColumnHeader textAlign="end">Intensity now</Table.ColumnHeader>
            <Table.ColumnHeader>Measured</Table.ColumnHeader>
            <Table.ColumnHeader>Source / signal</Table.ColumnHeader>
            <Table.ColumnHeader>Planned start</Table.ColumnHeader>
            <Table.ColumnHeader textAlign="end">Planned mean</Table.ColumnHeader>
            <Table.ColumnHeader>Planned on</Table.ColumnHeader>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {state.zones.map((zone) => (
            <Table.Row key={zone.zone}>
              <Table.Cell fontWeight="semibold">
                <HStack gap={2}>
                  <Text>{zone.zone}</Text>
                  {zone.zone === state.best_zone && state.zones.length > 1 ? <Badge colorPalette="green">best</Badge> : null}
                  {zone.degraded ? <Badge colorPalette="warning">degraded</Badge> : null}
                </HStack>
              </Table.Cell>
              <Table.Cell textAlign="end">{zone.error ? <Text color="fg.error">{zone.error}</Text> : intensity(zone.intensity_now)}</Table.Cell>
              <Table.Cell>{zone.reading_start ? `${when(zone.reading_start, now)} (${duration(secondsBetween(new Date(zone.reading_start), now.toISOString()))} ago)` : "—"}</Table.Cell>
              <Table.Cell>{state.source}{zone.signal ? ` / ${zone.signal}` : ""}</Table.Cell>
              <Table.Cell>{zone.run_now ? "now" : when(zone.planned_start, now)}</Table.Cell>
              <Table.Cell textAlign="end">
                {intensity(zone.planned_mean)}
                {percentChange(zone.planned_mean, zone.mean_if_now) ? <Text as="span" color="fg.muted"> ({percentChange(zone.planned_mean, zone.mean_if_now)})</Text> : null}
              </Table.Cell>
              <Table.Cell>{zone.used ?? "—"}{zone.threshold_value !== null ? `, threshold ${intensity(zone.threshold_value)}` : ""}</Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Box>
  );
};

const WaitChart = ({ state, zone, now }: { state: WaitState; zone: WaitZone; now: Date }) => {
  const measured = toSteps(zone.series.filter((p) => !p.forecast));
  const forecast = toSteps(zone.series.filter((p) => p.forecast));
  const planned = zone.planned_start ? new Date(zone.planned_start) : null;
  return (
    <TimeChart
      label={`Carbon intensity in ${zone.zone}: history, forecast and the planned window`}
      testId="wait-chart"
      unit={INTENSITY_UNIT}
      lines={[
        { label: `Measured (${zone.zone})`, color: "fg", steps: measured },
        { label: "Forecast", color: "blue.solid", steps: forecast },
      ]}
      bands={planned ? [{ label: "Planned run", color: "green.solid", start: planned, end: new Date(planned.getTime() + state.duration_seconds * 1000) }] : []}
      markers={[
        { label: "now", at: now, color: "purple.solid" },
        { label: "latest start", at: new Date(state.latest_start), color: "red.solid" },
      ]}
    />
  );
};
