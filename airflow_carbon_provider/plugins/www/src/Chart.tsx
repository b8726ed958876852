// A time chart in SVG, coloured with the host theme's tokens (so it follows light and dark): step lines drawn
// as steps, shaded windows, labelled instants, a legend, time ticks on round hours or days, and the date
// wherever the axis crosses midnight.
import { Box, HStack, Text } from "@chakra-ui/react";

import { useTimes } from "./format";

export type Step = { start: Date; end: Date; value: number };
export type Line = { label: string; color: string; steps: Step[]; dashed?: boolean };
export type Band = { start: Date; end: Date; label: string; color: string };
export type Marker = { at: Date; label: string; color: string };

const WIDTH = 860;
const HEIGHT = 260;
const LEFT = 64;
const RIGHT = 16;
const TOP = 26;
const BOTTOM = 42;
const MINUTE = 60_000;
const TICK_STEPS = [15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 43200].map((m) => m * MINUTE);

/** A Chakra colour token as a CSS value for SVG ("green.solid" -> var(--chakra-colors-green-solid)). */
export const token = (name: string): string => `var(--chakra-colors-${name.replaceAll(".", "-")})`;

const niceStep = (span: number): number => {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((f) => f * power).find((step) => step >= raw) ?? power * 10;
};

/** Ticks on multiples of the step in the shown zone (``offset`` ms ahead of UTC): round hours, midnights, ... */
export const timeTicks = (t0: number, t1: number, offset: number): number[] => {
  const step = TICK_STEPS.find((candidate) => (t1 - t0) / candidate <= 8) ?? TICK_STEPS[TICK_STEPS.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil((t0 + offset) / step) * step - offset; t <= t1; t += step) ticks.push(t);
  return ticks;
};

type ChartProps = {
  lines: Line[];
  bands?: Band[];
  markers?: Marker[];
  unit: string;
  formatValue?: (value: number) => string;
  label: string;
  testId?: string;
};

export const TimeChart = ({ lines, bands = [], markers = [], unit, formatValue, label, testId }: ChartProps) => {
  const { clock, day, sameDay, offset, label: zoneLabel } = useTimes();
  const steps = lines.flatMap((line) => line.steps);
  if (steps.length === 0) {
    return (
      <Text color="fg.muted" fontSize="sm">
        No intensity data to chart yet.
      </Text>
    );
  }
  const times = [
    ...steps.flatMap((s) => [s.start.getTime(), s.end.getTime()]),
    ...bands.flatMap((b) => [b.start.getTime(), b.end.getTime()]),
    ...markers.map((m) => m.at.getTime()),
  ];
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + MINUTE);
  const top = Math.max(...steps.map((s) => s.value), 0);
  const yStep = niceStep(top || 1);
  const yMax = Math.ceil((top * 1.05 || 1) / yStep) * yStep;
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0)) * (WIDTH - LEFT - RIGHT);
  const y = (v: number) => HEIGHT - BOTTOM - (v / yMax) * (HEIGHT - TOP - BOTTOM);
  const yTicks = Array.from({ length: Math.round(yMax / yStep) + 1 }, (_, i) => i * yStep);
  const ticks = timeTicks(t0, t1, offset(new Date(t0)));
  const showDates = !sameDay(new Date(t0), new Date(t1));
  const fmt = formatValue ?? ((v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 0 }));

  return (
    <Box data-testid={testId}>
      <Box as="svg" width="100%" height="auto" maxW={`${WIDTH}px`} display="block"
        // @ts-expect-error SVG attributes pass through Box to the svg element
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label} fontSize="11px" fontFamily="body">
        {bands.map((band) => (
          <rect key={band.label} data-band={band.label} x={x(band.start.getTime())} y={TOP}
            width={Math.max(x(band.end.getTime()) - x(band.start.getTime()), 1)} height={HEIGHT - TOP - BOTTOM}
            fill={token(band.color)} fillOpacity={0.18}>
            <title>{band.label}</title>
          </rect>
        ))}
        {yTicks.map((v) => (
          <g key={v}>
            <line x1={LEFT} x2={WIDTH - RIGHT} y1={y(v)} y2={y(v)} stroke={token("border")} />
            <text x={LEFT - 6} y={y(v) + 4} textAnchor="end" fill={token("fg.muted")}>{fmt(v)}</text>
          </g>
        ))}
        <text x={6} y={TOP - 12} fill={token("fg.muted")}>{unit}</text>
        {ticks.map((t, index) => {
          const date = new Date(t);
          const previous = index > 0 ? new Date(ticks[index - 1]) : new Date(t0);
          const newDay = showDates && (index === 0 || !sameDay(date, previous));
          return (
            <g key={t}>
              <line x1={x(t)} x2={x(t)} y1={HEIGHT - BOTTOM} y2={HEIGHT - BOTTOM + 4} stroke={token("fg.muted")} />
              <text x={x(t)} y={HEIGHT - BOTTOM + 16} textAnchor="middle" fill={token("fg.muted")}>{clock(date)}</text>
              {newDay ? (
                <text x={x(t)} y={HEIGHT - BOTTOM + 30} textAnchor="middle" fill={token("fg")} fontWeight="600">
                  {day(date)}
                </text>
              ) : null}
            </g>
          );
        })}
        <text x={WIDTH - RIGHT} y={HEIGHT - 2} textAnchor="end" fill={token("fg.muted")} data-testid="chart-zone">
          {zoneLabel(new Date(t1))}
        </text>
        <line x1={LEFT} x2={WIDTH - RIGHT} y1={HEIGHT - BOTTOM} y2={HEIGHT - BOTTOM} stroke={token("fg.muted")} />
        {lines.map((line) => (
          <path key={line.label} data-line={line.label} d={stepPath(line.steps, x, y)} fill="none"
            stroke={token(line.color)} strokeWidth={2} strokeDasharray={line.dashed ? "5 4" : undefined}>
            <title>{line.label}</title>
          </path>
        ))}
        {markers.map((marker, index) => {
          const at = x(marker.at.getTime());
          const anchor = at > WIDTH - RIGHT - 60 ? "end" : at < LEFT + 60 ? "start" : "middle";
          return (
            <g key={marker.label} data-marker={marker.label}>
              <line x1={at} x2={at} y1={TOP} y2={HEIGHT - BOTTOM} stroke={token(marker.color)} strokeWidth={1.5}
                strokeDasharray="3 3" />
              <text x={at} y={TOP - 12 + (index % 2) * 10} textAnchor={anchor} fill={token(marker.color)}
                fontWeight="600">{`${marker.label} ${clock(marker.at)}`}</text>
            </g>
          );
        })}
      </Box>
      <HStack gap={4} wrap="wrap" fontSize="xs" color="fg.muted" mt={1} data-testid="chart-legend">
        {lines.map((line) => (
          <HStack key={line.label} gap={1}>
            <Box w="18px" h="0" borderTopWidth="2px" borderStyle={line.dashed ? "dashed" : "solid"}
              borderColor={line.color} />
            <Text>{line.label}</Text>
          </HStack>
        ))}
        {bands.map((band) => (
          <HStack key={band.label} gap={1}>
            <Box w="14px" h="10px" bg={band.color} opacity={0.35} />
            <Text>{band.label}</Text>
          </HStack>
        ))}
        {markers.map((marker) => (
          <HStack key={marker.label} gap={1}>
            <Box w="0" h="12px" borderLeftWidth="2px" borderStyle="dashed" borderColor={marker.color} />
            <Text>{marker.label}</Text>
          </HStack>
        ))}
      </HStack>
    </Box>
  );
};

/** An SVG path of horizontal steps; a gap between two steps lifts the pen instead of drawing a slope. */
export const stepPath = (steps: Step[], x: (t: number) => number, y: (v: number) => number): string => {
  let path = "";
  let previousEnd: number | null = null;
  for (const step of [...steps].sort((a, b) => a.start.getTime() - b.start.getTime())) {
    const start = step.start.getTime();
    const command = previousEnd === start ? "L" : "M";
    path += `${command}${x(start).toFixed(1)},${y(step.value).toFixed(1)}H${x(step.end.getTime()).toFixed(1)}`;
    previousEnd = step.end.getTime();
  }
  return path;
};

export const toSteps = (points: { start: string; end: string; intensity: number }[]): Step[] =>
  points.map((p) => ({ start: new Date(p.start), end: new Date(p.end), value: p.intensity }));
