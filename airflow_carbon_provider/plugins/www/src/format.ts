// One vocabulary for every number the views show: gCO₂e for mass, gCO₂e/kWh for intensity, times in the user's
// Airflow time zone.
import { useTimezone } from "./timezone";

export const INTENSITY_UNIT = "gCO₂e/kWh";

const number = (value: number, digits = 0): string =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Grams of CO₂e, scaled to kg or t when large: "651.8 gCO₂e", "12.4 kgCO₂e", "3.1 tCO₂e". */
export const grams = (value: number | null | undefined): string => {
  if (value === null || value === undefined) return "—";
  const size = Math.abs(value);
  if (size >= 1e6) return `${number(value / 1e6, 2)} tCO₂e`;
  if (size >= 1e4) return `${number(value / 1e3, 1)} kgCO₂e`;
  return `${number(value, 1)} gCO₂e`;
};

export const intensity = (value: number | null | undefined): string =>
  value === null || value === undefined ? "—" : `${number(value)} ${INTENSITY_UNIT}`;

export const kwh = (value: number | null | undefined): string =>
  value === null || value === undefined ? "—" : `${number(value, value < 10 ? 2 : 1)} kWh`;

export const duration = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined) return "—";
  const minutes = Math.round(Math.abs(seconds) / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return `${number(hours / 24, 1)} days`;
};

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Times as shown in one time zone (the user's Airflow choice, timezone.ts): "14:00 GMT+2", "Fri 13 Oct". */
export type Times = {
  zone: string;
  /** The zone's short name at ``date``, as the Airflow UI writes it: "UTC", "GMT+5:30", "EDT". */
  label: (date: Date) => string;
  clock: (date: Date) => string;
  day: (date: Date) => string;
  sameDay: (a: Date, b: Date) => boolean;
  /** Milliseconds the zone is ahead of UTC at ``date``. */
  offset: (date: Date) => number;
  /** "14:00 UTC", or "Fri 13 Oct 14:00 UTC" when the moment is not on the day of ``reference``. */
  when: (iso: string | null | undefined, reference?: Date) => string;
  /** "2023-10-12 14:00 UTC" for tables. */
  stamp: (iso: string | null | undefined) => string;
  /** ISO 8601 with the zone's offset, "2023-10-12T16:00:00+02:00", for the CSV export. */
  iso: (iso: string | null | undefined) => string;
};

type Parts = { year: number; month: number; day: number; hour: number; minute: number; second: number };

const pad = (value: number): string => String(value).padStart(2, "0");
const cache = new Map<string, Times>();

export const timesIn = (zone: string): Times => {
  const known = cache.get(zone);
  if (known) return known;
  const fields = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric",
    minute: "numeric", second: "numeric",
  });
  const names = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" });
  const parts = (date: Date): Parts => {
    const found: Record<string, number> = {};
    for (const part of fields.formatToParts(date)) found[part.type] = Number(part.value);
    return found as Parts;
  };
  const offset = (date: Date): number => {
    const p = parts(date);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(date.getTime() / 1000) * 1000;
  };
  const ymd = (date: Date): string => {
    const p = parts(date);
    return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
  };
  const label = (date: Date): string => names.formatToParts(date).find((p) => p.type === "timeZoneName")?.value ?? zone;
  const clock = (date: Date): string => {
    const p = parts(date);
    return `${pad(p.hour)}:${pad(p.minute)}`;
  };
  const day = (date: Date): string => {
    const p = parts(date);
    return `${DAYS[new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay()]} ${pad(p.day)} ${MONTHS[p.month - 1]}`;
  };
  const sameDay = (a: Date, b: Date): boolean => ymd(a) === ymd(b);
  const times: Times = {
    zone, label, clock, day, sameDay, offset,
    when: (iso, reference) => {
      if (!iso) return "—";
      const date = new Date(iso);
      return `${reference && sameDay(date, reference) ? "" : `${day(date)} `}${clock(date)} ${label(date)}`;
    },
    stamp: (iso) => {
      if (!iso) return "—";
      const date = new Date(iso);
      return `${ymd(date)} ${clock(date)} ${label(date)}`;
    },
    iso: (iso) => {
      if (!iso) return "";
      const date = new Date(iso);
      const p = parts(date);
      const minutes = Math.round(offset(date) / 60_000);
      const sign = minutes < 0 ? "-" : "+";
      const zoneOffset = `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
      return `${ymd(date)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${zoneOffset}`;
    },
  };
  cache.set(zone, times);
  return times;
};

/** Times in the user's Airflow time zone; the caller re-renders when the user picks another zone. */
export const useTimes = (): Times => timesIn(useTimezone());

export const percentChange = (value: number | null, reference: number | null): string | null =>
  value === null || reference === null || reference === 0
    ? null
    : `${value < reference ? "−" : "+"}${number(Math.abs(value / reference - 1) * 100)} %`;
