// The home dashboard's Carbon widget: the last 7 days at a glance, and the way to the Carbon page.
import { Box, HStack, Heading, SimpleGrid, Text } from "@chakra-ui/react";
import { useState } from "react";

import { type Fleet, fleetPath, useJson } from "./api";
import { grams, kwh } from "./format";
import { AirflowLink } from "./links";
import { Failure, Loading } from "./parts";
import { sinceOf } from "./FleetPage";

export const DashboardWidget = () => {
  const [since] = useState(() => sinceOf("7d"));
  const { data, error, loading } = useJson<Fleet>(fleetPath({ since, limit: 0 })); // the totals, no rows
  const sum = data?.totals;
  return (
    <Box borderWidth="1px" borderColor="border" borderRadius="lg" p={4} data-testid="carbon-widget">
      <HStack justify="space-between" mb={2}>
        <Heading size="md">Carbon, last 7 days</Heading>
        <AirflowLink to="/plugin/carbon" testId="widget-link">Open the Carbon page</AirflowLink>
      </HStack>
      {error ? <Failure error={error} /> : !sum ? (loading ? <Loading /> : null) : (
        <SimpleGrid columns={{ base: 2, md: 4 }} gap={3}>
          <Stat label="Emitted" value={grams(sum.emitted_g)} testId="widget-emitted" />
          <Stat label="Avoided by waiting" value={grams(sum.avoided_g)} testId="widget-avoided" />
          <Stat label="Energy" value={kwh(sum.energy_kwh)} />
          <Stat label="Runs (waiting now)" value={`${sum.runs} (${sum.by_status.waiting ?? 0})`} testId="widget-runs" />
        </SimpleGrid>
      )}
    </Box>
  );
};

const Stat = ({ label, value, testId }: { label: string; value: string; testId?: string }) => (
  <Box data-testid={testId}>
    <Text fontSize="xs" color="fg.muted">{label}</Text>
    <Text fontSize="lg" fontWeight="semibold">{value}</Text>
  </Box>
);
