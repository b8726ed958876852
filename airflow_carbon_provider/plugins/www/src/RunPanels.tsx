// What a finished wait, a report and a NodePool change say, for the run and task-instance tabs.
import { Box, Table, Text } from "@chakra-ui/react";

import type { NodePoolChange, Report, WaitResult } from "./api";
import { TimeChart, toSteps } from "./Chart";
import { INTENSITY_UNIT, duration, grams, intensity, kwh, useTimes } from "./format";
import { Fact, Facts, Notes } from "./parts";

export const ReportPanel = ({ report }: { report: Report }) => {
  const start = new Date(report.start);
  const release = new Date(report.release);
  const runMs = new Date(report.end).getTime() - start.getTime();
  const avoided = report.avoided_g;
  return (
    <Box display="flex" flexDirection="column" gap={3} data-testid="report">
      <Facts>
        <Fact label="Emitted" testId="emitted">{grams(report.emitted_g)}</Fact>
        <Fact label="Avoided by waiting" testId="avoided">
          <Text as="span" color={avoided === null ? undefined : avoided >= 0 ? "fg.success" : "fg.error"}>{grams(avoided)}</Text>
        </Fact>
        <Fact label="Had it started at release" testId="baseline">{grams(report.baseline_g)}</Fact>
        <Fact label="Energy" testId="energy">
          {kwh(report.energy_kwh)}
          <Text fontSize="sm" color="fg.muted">{report.power_w.toLocaleString("en-US")} W × PUE {report.pue.toFixed(2)}{report.instance_type ? `, ${report.instance_type}` : ""}</Text>
        </Fact>
        <Fact label="Waited">{duration(report.waited_seconds)}</Fact>
        <Fact label="Intensity at release → at start">{intensity(report.intensity_at_release)} → {intensity(report.intensity_at_start)}</Fact>
        <Fact label="Mean during the run (if started at release)">{intensity(report.intensity_mean)} ({intensity(report.intensity_baseline_mean)})</Fact>
        <Fact label="Zone / source">{report.zone} / {report.source}</Fact>
      </Facts>
      <TimeChart
        label={`Carbon intensity in ${report.zone} around the run`}
        testId="report-chart"
        unit={INTENSITY_UNIT}
        lines={[
          { label: `Measured (${report.zone})`, color: "fg", steps: toSteps(report.series.filter((p) => !p.forecast)) },
          { label: "Forecast", color: "blue.solid", steps: toSteps(report.series.filter((p) => p.forecast)) },
        ]}
        bands={[
          { label: "Job ran", color: "green.solid", start, end: new Date(start.getTime() + runMs) },
          { label: "Had it started at release", color: "orange.solid", start: release, end: new Date(release.getTime() + runMs) },
        ]}
        markers={report.deadline ? [{ label: "deadline", at: new Date(report.deadline), color: "red.solid" }] : []}
      />
      <Notes notes={report.notes} />
    </Box>
  );
};

export const WaitResultPanel = ({ wait }: { wait: WaitResult }) => {
  const { stamp } = useTimes();
  return (
    <Box display="flex" flexDirection="column" gap={3} data-testid="wait-result">
      <Facts>
        <Fact label="Started" testId="wait-start">{stamp(wait.start)}{wait.zone ? ` in ${wait.zone}` : ""}</Fact>
        <Fact label="Released">{stamp(wait.release)}</Fact>
        <Fact label="Waited">{duration(wait.waited_seconds)}</Fact>
        <Fact label="Intensity at release → at start">{intensity(wait.intensity_at_release)} → {intensity(wait.intensity_at_start)}</Fact>
        <Fact label="Planned mean">{intensity(wait.planned_mean)}</Fact>
        <Fact label="Policy / planned on">{wait.policy}{wait.used ? ` / ${wait.used}` : ""}</Fact>
        <Fact label="Deadline">{stamp(wait.deadline)}</Fact>
        <Fact label="Zones considered">
          {Object.entries(wait.zones).map(([zone, value]) => `${zone} ${intensity(value)}`).join(", ") || "—"}
        </Fact>
      </Facts>
      <Notes notes={wait.notes} />
    </Box>
  );
};

const show = (value: unknown): string => (value === null || value === undefined ? "(unset)" : JSON.stringify(value));

export const NodePoolPanel = ({ change, at }: { change: NodePoolChange; at: string | null }) => {
  const { when } = useTimes();
  return (
    <Box display="flex" flexDirection="column" gap={3} data-testid="nodepool-change">
      <Facts>
        <Fact label="NodePool">{change.nodepool}</Fact>
        <Fact label="Action / outcome">{change.action} / {change.outcome}</Fact>
        <Fact label="Mode">{change.mode ?? "—"}{change.dry_run ? " (nothing sent)" : ""}</Fact>
        <Fact label="When (task end)">{at ? when(at) : "—"}</Fact>
        {change.grid_state ? <Fact label="Grid state">{change.grid_state}{change.intensity !== null ? ` at ${intensity(change.intensity)}` : ""}</Fact> : null}
        {change.drift && change.drift !== "none" ? <Fact label="Karpenter replaces">{change.drift}</Fact> : null}
      </Facts>
      {change.reason ? <Text fontSize="sm" color="fg.muted">{change.reason}</Text> : null}
      {change.diff?.length ? (
        <Box overflowX="auto">
          <Table.Root size="sm">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeader>Field</Table.ColumnHeader>
                <Table.ColumnHeader>Before</Table.ColumnHeader>
                <Table.ColumnHeader>After</Table.ColumnHeader>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {change.diff.map((entry) => (
                <Table.Row key={entry.path}>
                  <Table.Cell fontFamily="mono">{entry.path}</Table.Cell>
                  <Table.Cell fontFamily="mono">{show(entry.before)}</Table.Cell>
                  <Table.Cell fontFamily="mono">{show(entry.after)}</Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
        </Box>
      ) : null}
    </Box>
  );
};
