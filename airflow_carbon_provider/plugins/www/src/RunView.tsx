// The Carbon tab of a DAG run (all its carbon tasks) and of a task instance (that task only).
import { Badge, Box, HStack, Stack, Text } from "@chakra-ui/react";

import { runPath, type RunCarbon, type TaskCarbon, useJson } from "./api";
import { grams, kwh } from "./format";
import { AirflowLink, taskPath } from "./links";
import { Empty, Failure, Fact, Facts, Loading, Notes, Section, StateBadge } from "./parts";
import { NodePoolPanel, ReportPanel, WaitResultPanel } from "./RunPanels";
import { WaitPanel } from "./WaitPanel";

const REFRESH_MS = 10_000;
const IN_FLIGHT = new Set(["deferred", "running", "queued", "scheduled", "up_for_reschedule", "up_for_retry", "restarting"]);

const inFlight = (task: TaskCarbon): boolean => task.state !== null && IN_FLIGHT.has(task.state);
const stillWaiting = (run: RunCarbon): boolean =>
  run.tasks.some((task) => task.wait_state !== null && inFlight(task)) || run.state === "queued" || run.state === "running";

type Props = { dagId: string; runId: string; taskId?: string; mapIndex?: number };

export const RunView = ({ dagId, runId, taskId, mapIndex }: Props) => {
  const { data, error, loading } = useJson<RunCarbon>(runPath(dagId, runId), REFRESH_MS, stillWaiting);
  if (error) return <Failure error={error} />;
  if (!data) return loading ? <Loading /> : null;
  const tasks = data.tasks.filter(
    (task) => taskId === undefined || (task.task_id === taskId && (mapIndex === undefined || task.map_index === mapIndex)),
  );
  const live = stillWaiting(data);
  return (
    <Stack gap={4} data-testid={taskId ? "carbon-task-view" : "carbon-run-view"} data-live={live}>
      {taskId === undefined && data.totals.emitted_g !== null ? (
        <Facts>
          <Fact label="Emitted by this run" testId="run-emitted">{grams(data.totals.emitted_g)}</Fact>
          <Fact label="Avoided by waiting" testId="run-avoided">{data.state === "success" ? grams(data.totals.avoided_g) : `not counted (run ${data.state})`}</Fact>
          <Fact label="Had it started at release">{grams(data.totals.baseline_g)}</Fact>
          <Fact label="Energy">{kwh(data.totals.energy_kwh)}</Fact>
        </Facts>
      ) : null}
      <Notes notes={data.skipped} title="Left out" />
      {tasks.length === 0 ? (
        <Empty>
          No carbon data {taskId ? "for this task" : "for this run"} yet. A CarbonIntensitySensor publishes its live
          plan while it waits; the sensor, a CarbonReportOperator and the NodePool operators write theirs when they finish.
        </Empty>
      ) : null}
      {tasks.map((task) => <TaskSections key={`${task.task_id}:${task.map_index}`} dagId={dagId} runId={runId} task={task} />)}
    </Stack>
  );
};

const TaskSections = ({ dagId, runId, task }: { dagId: string; runId: string; task: TaskCarbon }) => {
  const logs = <AirflowLink to={taskPath(dagId, runId, task.task_id, task.map_index)} testId="task-link">{task.label} (logs)</AirflowLink>;
  const badge = (
    <HStack gap={2}>
      <StateBadge state={task.state} />
      {logs}
    </HStack>
  );
  const showLive = task.wait_state !== null && (inFlight(task) || task.wait === null);
  return (
    <>
      {showLive && task.wait_state ? (
        <Section testId="wait-section" title={inFlight(task) ? `Waiting for a green window: ${task.label}` : `Last plan of ${task.label}`} badge={badge}>
          {task.state === "skipped" || task.state === "failed" ? (
            <Text color="fg.warning">The wait ended at the deadline and the task was {task.state}; nothing is counted as avoided.</Text>
          ) : null}
          <WaitPanel state={task.wait_state} live={inFlight(task)} />
        </Section>
      ) : null}
      {task.wait ? (
        <Section testId="wait-result-section" title={`Wait in ${task.label}`} badge={<HStack gap={2}>{badge}<Flags forced={task.wait.deadline_forced} degraded={task.wait.degraded} /></HStack>}>
          <WaitResultPanel wait={task.wait} />
        </Section>
      ) : null}
      {task.report ? (
        <Section testId="report-section" title={`Report from ${task.label}`} badge={<HStack gap={2}>{badge}<Flags forced={task.report.deadline_forced} degraded={task.report.degraded} /></HStack>}>
          <ReportPanel report={task.report} />
        </Section>
      ) : null}
      {task.nodepool ? (
        <Section testId="nodepool-section" title={`NodePool change by ${task.label}`} badge={badge}>
          <NodePoolPanel change={task.nodepool} at={task.end_date} />
        </Section>
      ) : null}
    </>
  );
};

export const Flags = ({ forced, degraded }: { forced: boolean; degraded: boolean }) => (
  <Box>
    {forced ? <Badge colorPalette="red" mr={1}>deadline start</Badge> : null}
    {degraded ? <Badge colorPalette="orange">degraded: see notes</Badge> : null}
  </Box>
);
