// Links that route inside Airflow (its own client-side router, so no reload and the base path is respected).
import { Link as ChakraLink } from "@chakra-ui/react";
import type { ReactNode } from "react";
import { Link as RouterLink } from "react-router-dom";

const part = encodeURIComponent;

export const runPath = (dagId: string, runId: string): string => `/dags/${part(dagId)}/runs/${part(runId)}`;

export const taskPath = (dagId: string, runId: string, taskId: string, mapIndex = -1): string =>
  `${runPath(dagId, runId)}/tasks/${part(taskId)}${mapIndex >= 0 ? `/mapped/${mapIndex}` : ""}`;

export const carbonRunPath = (dagId: string, runId: string): string => `${runPath(dagId, runId)}/plugin/carbon_run`;

export const dagPath = (dagId: string): string => `/dags/${part(dagId)}`;

export const AirflowLink = ({ to, children, testId }: { to: string; children: ReactNode; testId?: string }) => (
  <ChakraLink asChild color="fg.info" data-testid={testId}>
    <RouterLink to={to}>{children}</RouterLink>
  </ChakraLink>
);
