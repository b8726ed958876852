// Entry point of the react_apps bundle. The host imports dist/carbon.js and renders globalThis[<app name>];
// the names match plugins/carbon.py (VIEWS_NAME, WIDGET_NAME). Props come from the host's route:
// dagId, runId, taskId, mapIndex (absent on the nav page and the dashboard).
import { Box } from "@chakra-ui/react";

import { DashboardWidget } from "./DashboardWidget";
import { FleetPage } from "./FleetPage";
import { RunView } from "./RunView";

export type PluginProps = { dagId?: string; runId?: string; taskId?: string; mapIndex?: string };

/** The Carbon tab of a run or a task instance, or the Carbon page, depending on where the host mounts it. */
const CarbonViews = ({ dagId, runId, taskId, mapIndex }: PluginProps) => (
  <Box data-carbon-view="" py={2}>
    {dagId && runId ? (
      <RunView dagId={dagId} runId={runId} taskId={taskId}
        mapIndex={taskId === undefined ? undefined : mapIndex === undefined ? -1 : Number(mapIndex)} />
    ) : (
      <FleetPage />
    )}
  </Box>
);

const registry = globalThis as unknown as Record<string, unknown>;
registry["Carbon"] = CarbonViews;
registry["Carbon footprint"] = DashboardWidget;

export default CarbonViews;
