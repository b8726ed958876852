// Small building blocks shared by the views, styled only with the host theme's tokens.
import { Alert, Badge, Box, HStack, Heading, SimpleGrid, Spinner, Stack, Text } from "@chakra-ui/react";
import type { ReactNode } from "react";

import { ApiError } from "./api";

const STATE_PALETTES = new Set([
  "success", "failed", "queued", "skipped", "running", "deferred", "scheduled", "upstream_failed",
  "up_for_retry", "up_for_reschedule", "removed", "restarting",
]);
const STATUS_PALETTES: Record<string, string> = {
  accounted: "green", waited: "blue", waiting: "deferred", skipped: "skipped", failed: "failed", nodepool: "gray",
};

export const StateBadge = ({ state }: { state: string | null }) => (
  <Badge colorPalette={state && STATE_PALETTES.has(state) ? state : "gray"} variant="solid" data-testid="state-badge">
    {state ?? "no state"}
  </Badge>
);

export const StatusBadge = ({ status }: { status: string }) => (
  <Badge colorPalette={STATUS_PALETTES[status] ?? "gray"} variant="subtle">{status}</Badge>
);

export const Fact = ({ label, children, testId, value }: { label: string; children: ReactNode; testId?: string; value?: string }) => (
  <Box borderWidth="1px" borderColor="border" borderRadius="md" px={3} py={2} data-testid={testId} data-value={value}>
    <Text fontSize="xs" color="fg.muted">{label}</Text>
    <Box fontSize="md" fontWeight="semibold">{children}</Box>
  </Box>
);

export const Facts = ({ children }: { children: ReactNode }) => (
  <SimpleGrid columns={{ base: 1, sm: 2, lg: 4 }} gap={3}>{children}</SimpleGrid>
);

export const Section = ({ title, badge, children, testId }: { title: ReactNode; badge?: ReactNode; children: ReactNode; testId?: string }) => (
  <Stack gap={3} borderWidth="1px" borderColor="border" borderRadius="lg" p={4} bg="bg" data-testid={testId}>
    <HStack gap={3} wrap="wrap">
      <Heading size="md">{title}</Heading>
      {badge}
    </HStack>
    {children}
  </Stack>
);

export const Notes = ({ notes, title = "Notes" }: { notes: string[]; title?: string }) =>
  notes.length ? (
    <Box fontSize="sm">
      <Text fontWeight="semibold">{title}</Text>
      <Box as="ul" pl={5} listStyleType="disc" color="fg.muted">
        {notes.map((note) => <li key={note}>{note}</li>)}
      </Box>
    </Box>
  ) : null;

export const Loading = () => (
  <HStack p={4} color="fg.muted"><Spinner size="sm" /><Text>Loading carbon data…</Text></HStack>
);

export const Failure = ({ error }: { error: Error }) => {
  const status = error instanceof ApiError ? error.status : undefined;
  const title = status === 401 ? "Sign in to see carbon data" : status === 403 ? "No access" : "Could not load carbon data";
  return (
    <Alert.Root status="error" data-testid="carbon-error" data-status={status}>
      <Alert.Indicator />
      <Alert.Content>
        <Alert.Title>{title}</Alert.Title>
        <Alert.Description>{error.message}</Alert.Description>
      </Alert.Content>
    </Alert.Root>
  );
};

export const Empty = ({ children }: { children: ReactNode }) => (
  <Text color="fg.muted" data-testid="carbon-empty">{children}</Text>
);
